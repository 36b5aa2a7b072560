"""setup() raises: bench must stop with the setup logs before any load."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self) -> None:
        raise RuntimeError("no weights for the bench")

    def predict(self) -> str:
        return "never"
