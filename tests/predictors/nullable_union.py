"""A union with None: required without a default, nullable, and every variant nullable."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, value: str | float | None, other: int | bool | None = None) -> str:
        return str(value)
