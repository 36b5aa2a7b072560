"""setup() raises: health stays 200 with SETUP_FAILED, predictions get 503."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self) -> None:
        raise RuntimeError("boom in setup")

    def predict(self) -> str:
        return "never"
