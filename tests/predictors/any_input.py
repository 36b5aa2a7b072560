"""An Any input accepts any JSON object."""

from typing import Any

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, value: Any) -> Any:
        return value
