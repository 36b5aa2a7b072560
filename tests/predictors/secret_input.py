"""Secrets: the password fragment; a default is written as its plain string."""

from cog import BasePredictor, Input, Secret


class Predictor(BasePredictor):
    def predict(
        self,
        token: Secret,
        fallback: Secret = Input(default=Secret("sk-default"), description="Key"),
    ) -> str:
        return "ok"
