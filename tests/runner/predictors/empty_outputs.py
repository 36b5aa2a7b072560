"""Iterator outputs that yield nothing, one class per way of streaming."""

from collections.abc import AsyncIterator, Iterator

from cog import AsyncConcatenateIterator, BasePredictor, ConcatenateIterator


class SyncGenerator(BasePredictor):
    def predict(self) -> Iterator[str]:
        yield from ()


class SyncIterator(BasePredictor):
    def predict(self) -> Iterator[str]:
        return iter(())


class SyncConcatenate(BasePredictor):
    def predict(self) -> ConcatenateIterator[str]:
        yield from ()


class AsyncGenerator(BasePredictor):
    async def predict(self) -> AsyncIterator[str]:
        for item in ():
            yield item


class AsyncConcatenate(BasePredictor):
    async def predict(self) -> AsyncConcatenateIterator[str]:
        for item in ():
            yield item


class AsyncReturnsGenerator(BasePredictor):
    async def predict(self) -> Iterator[str]:
        return (item for item in ())


class EmptyList(BasePredictor):
    def predict(self) -> list[str]:
        return []


class FailsBeforeYielding(BasePredictor):
    def predict(self) -> Iterator[str]:
        raise ValueError("nothing to stream")
        yield "unreachable"
