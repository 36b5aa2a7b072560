"""Async predictor that sleeps 50 ms: measures concurrency and slot handling.

With N slots and N connections each connection always finds a free slot, so
throughput is bounded by N / 50 ms and any shortfall is server overhead.
"""

import asyncio

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def setup(self) -> None:
        """Nothing to load; present so servers exercise their setup path."""

    async def predict(self, sleep_ms: int = Input(default=50, ge=0, le=60_000)) -> str:
        await asyncio.sleep(sleep_ms / 1000)
        return "done"
