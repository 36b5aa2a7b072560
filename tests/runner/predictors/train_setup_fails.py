"""A trainer, separate from the predictor, whose setup() raises."""

from cog import BasePredictor


class Trainer(BasePredictor):
    def setup(self) -> None:
        raise RuntimeError("no base weights")

    def train(self) -> str:
        return "never"
