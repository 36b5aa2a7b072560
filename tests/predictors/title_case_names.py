"""Titles split on underscores and upper-case only each part's first letter."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(
        self,
        input_with_default: str = "a",
        TTFT: float = 0.5,
        max__new_tokens: int = 2,
        xPos: int = 0,
    ) -> str:
        return input_with_default
