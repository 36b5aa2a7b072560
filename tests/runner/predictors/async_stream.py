import asyncio
from typing import AsyncIterator

from cog import BasePredictor

GATE: dict[str, asyncio.Event] = {}


class Predictor(BasePredictor):
    async def predict(self) -> AsyncIterator[str]:
        yield "first"
        await GATE["second"].wait()
        yield "second"
