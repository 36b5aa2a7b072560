"""No return annotation: the Output component is only {"title": "Output"}."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, text: str):
        return text
