"""Prints lines in bursts the test asks for, then returns one value.

Each number put on ``LINES`` prints that many lines at once (``line 0``,
``line 1``, ...); 0 ends the prediction. Waiting for the next burst is bounded.
"""

import asyncio

from cog import BasePredictor

LINES: "asyncio.Queue[int]" = asyncio.Queue()


class Predictor(BasePredictor):
    async def predict(self) -> str:
        printed = 0
        while (count := await asyncio.wait_for(LINES.get(), 30)) > 0:
            for _ in range(count):
                print(f"line {printed}")
                printed += 1
        return "done"
