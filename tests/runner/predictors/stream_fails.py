from typing import Iterator

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("midstream")
