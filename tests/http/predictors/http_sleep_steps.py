"""Sleeps in 10 ms steps, so a cancel lands within one step (subprocess tests)."""

import time

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, seconds: float = 1.0) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.01)
        return f"slept {seconds}"
