"""dict[str, V] output: an object with additionalProperties of V's schema."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, text: str) -> dict[str, int]:
        return {text: len(text)}
