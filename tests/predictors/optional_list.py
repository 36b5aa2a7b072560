"""Optional lists: an array schema plus nullable, never required."""

from typing import List, Optional

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, weights: Optional[List[float]], tags: Optional[list[str]] = None) -> str:
        return ",".join(tags or [])
