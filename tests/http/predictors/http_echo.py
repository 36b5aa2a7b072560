"""Returns its input: the fastest possible sync prediction (load tests, wire format)."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, text: str = "hi") -> str:
        return text
