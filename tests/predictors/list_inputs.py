"""List shapes: bare list (items are objects), List[str], list[int] with a default, list[dict]."""

from typing import List

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        anything: list,
        words: List[str],
        sizes: list[int] = Input(default=[1, 2], description="Sizes"),
        records: list[dict] = [],
    ) -> int:
        return len(anything)
