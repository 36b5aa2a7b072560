"""`T = Input(default=None)` and `T = None` on a non-Optional T are required, no default (§7.3)."""

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        seed: int = Input(default=None, description="Random seed"),
        count: int = None,
    ) -> int:
        return seed or 0
