"""Streams tokens in bursts the test asks for: the test, not a timer, decides when state changes.

Each number put on ``BURSTS`` yields that many tokens at once; 0 ends the
prediction. Waiting for the next burst is bounded.
"""

import asyncio
from typing import AsyncIterator

from cog import BasePredictor

BURSTS: "asyncio.Queue[int]" = asyncio.Queue()


class Predictor(BasePredictor):
    async def predict(self) -> AsyncIterator[str]:
        produced = 0
        while (size := await asyncio.wait_for(BURSTS.get(), 30)) > 0:
            for _ in range(size):
                yield f"t{produced}"
                produced += 1
