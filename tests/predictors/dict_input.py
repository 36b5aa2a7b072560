"""dict and Dict[K, V] inputs are plain objects; a dict default is written with sorted keys."""

from typing import Dict

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        data: dict,
        counts: Dict[str, int] = Input(default={"zeta": 2, "alpha": 1}),
    ) -> str:
        return "ok"
