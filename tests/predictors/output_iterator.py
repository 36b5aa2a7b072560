"""A generator annotated Iterator[str]: an array marked x-cog-array-type iterator."""

from typing import Iterator

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, n: int) -> Iterator[str]:
        for i in range(n):
            yield str(i)
