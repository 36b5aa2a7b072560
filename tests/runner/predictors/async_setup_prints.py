from cog import BasePredictor


class Predictor(BasePredictor):
    async def setup(self) -> None:
        print("loading weights asynchronously")

    async def predict(self) -> str:
        return "ok"
