"""A single required string input and a string output."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, text: str) -> str:
        return text
