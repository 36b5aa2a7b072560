import asyncio

from cog import BasePredictor


class Predictor(BasePredictor):
    async def predict(self, swallow: bool = False) -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            if swallow:
                return "swallowed"
            raise
        return "slept"
