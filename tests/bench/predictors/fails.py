"""Every prediction fails: the first one, sent alone, stops bench with its error."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        raise ValueError("this model always fails")
