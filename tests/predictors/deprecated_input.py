"""deprecated=True emits "deprecated": true; deprecated=False emits nothing."""

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        old: str = Input(default="x", deprecated=True),
        new: str = Input(default="y", deprecated=False),
    ) -> str:
        return old + new
