"""An integer bounded by ge/le, without a default: required, with minimum/maximum."""

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, count: int = Input(description="How many", ge=1, le=10)) -> int:
        return count
