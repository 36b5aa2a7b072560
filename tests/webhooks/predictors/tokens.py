"""Streams ``n`` tokens spread over ``seconds`` from the worker thread."""

import time
from typing import Iterator

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, n: int = 1000, seconds: float = 1.5) -> Iterator[str]:
        pause = seconds / n
        for i in range(n):
            time.sleep(pause)
            yield f"t{i}"
