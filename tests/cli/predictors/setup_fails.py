"""A model whose setup() raises."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self) -> None:
        raise RuntimeError("weights not found")

    def predict(self) -> str:
        return "unreachable"
