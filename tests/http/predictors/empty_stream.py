"""Streaming models whose iterator yields nothing, sync and async."""

from collections.abc import AsyncIterator, Iterator

from cog import BasePredictor, streaming


class SyncPredictor(BasePredictor):
    @streaming
    def predict(self) -> Iterator[str]:
        yield from ()


class AsyncPredictor(BasePredictor):
    @streaming
    async def predict(self) -> AsyncIterator[str]:
        for item in ():
            yield item
