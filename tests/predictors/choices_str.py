"""String choices: an allOf reference plus an enum component named after the input."""

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        color: str = Input(default="red", choices=["red", "green", "blue"], description="Hue"),
    ) -> str:
        return color
