"""Integer choices without a default: required, enum component of type integer."""

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, steps: int = Input(choices=[1, 2, 4, 8])) -> int:
        return steps
