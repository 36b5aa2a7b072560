"""Only logs while it runs (``lines`` lines over ``seconds``), then returns one value."""

import time

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, lines: int = 40, seconds: float = 1.0) -> str:
        for i in range(lines):
            print(f"line {i}")
            time.sleep(seconds / lines)
        return "done"
