"""A parameter without annotation accepts any JSON value: schema {} plus title and order."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, anything, named: str = "x") -> str:
        return str(anything)
