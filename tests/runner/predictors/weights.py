from typing import Any

from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self, weights: Any = None) -> None:
        self.weights = weights

    def predict(self) -> str:
        return f"{type(self.weights).__name__}:{self.weights}"
