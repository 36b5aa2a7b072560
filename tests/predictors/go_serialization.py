"""Byte-level details of §7.5: Go float formatting and Go's HTML-safe string escapes."""

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        learning_rate: float = Input(default=1e-5, ge=1e-7, le=0.5),
        big: float = Input(default=1e21, description="Use <b>big</b> & bold"),
        exact: float = 100.0,
    ) -> str:
        return ""
