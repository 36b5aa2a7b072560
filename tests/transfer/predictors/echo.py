"""Logs one line and returns its input: the smallest prediction with logs and output."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, text: str = "ok") -> str:
        print("hello log")
        return text
