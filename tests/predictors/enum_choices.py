"""An Enum-typed input becomes choices of its member values; the default is the value."""

import enum

from cog import BasePredictor


class Size(str, enum.Enum):
    SMALL = "small"
    LARGE = "large"


class Predictor(BasePredictor):
    def predict(self, size: Size = Size.SMALL) -> str:
        return str(size)
