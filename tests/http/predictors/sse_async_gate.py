"""@streaming async generator: one chunk, then waits until canceled (disconnect tests)."""

import asyncio
from collections.abc import AsyncIterator

from cog import BasePredictor, streaming

CANCELED = asyncio.Event()


class Predictor(BasePredictor):
    @streaming
    async def predict(self) -> AsyncIterator[str]:
        yield "chunk-0"
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            CANCELED.set()
            raise
        yield "chunk-1"
