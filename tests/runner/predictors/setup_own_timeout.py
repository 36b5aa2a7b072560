"""setup() raises a TimeoutError of its own; no setup timeout is configured."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self) -> None:
        raise TimeoutError("the weights server did not answer")

    def predict(self) -> str:
        return "never"
