"""Float defaults and bounds: integral floats are written without a fraction."""

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        temperature: float = Input(default=0.75, ge=0.0, le=2.0),
        scale: float = 1.0,
        ratio: float = Input(default=1, ge=0.5),
    ) -> float:
        return temperature * scale * ratio
