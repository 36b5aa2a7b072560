"""A default outside its own bounds: a definition error when the model loads, as in Cog."""

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, steps: int = Input(default=100, le=50)) -> str:
        return str(steps)
