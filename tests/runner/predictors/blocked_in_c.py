"""time.sleep is one C call: a cancel waits for it to return."""

import time

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, seconds: float = 0.5) -> str:
        time.sleep(seconds)
        return "slept"
