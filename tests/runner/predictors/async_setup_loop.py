import asyncio

from cog import BasePredictor


class Predictor(BasePredictor):
    async def setup(self) -> None:
        self.setup_loop = id(asyncio.get_running_loop())

    async def predict(self) -> bool:
        return self.setup_loop == id(asyncio.get_running_loop())
