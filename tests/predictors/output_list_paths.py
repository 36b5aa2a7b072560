"""A list of files as output: an array of uri strings (not an iterator)."""

from typing import List

from cog import BasePredictor, Path


class Predictor(BasePredictor):
    def predict(self, count: int = 1) -> List[Path]:
        return [Path(f"{i}.png") for i in range(count)]
