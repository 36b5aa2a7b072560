"""The default model of tests/bench: returns its text; ``n`` must not be negative (422)."""

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, text: str = Input(default="hi"), n: int = Input(default=1, ge=0)) -> str:
        return text * n
