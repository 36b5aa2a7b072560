"""Input("hi") passes the default positionally; Input(default=None) on Optional emits null."""

from typing import Optional

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        greeting: str = Input("hi", description="Greeting"),
        suffix: Optional[str] = Input(None),
    ) -> str:
        return greeting
