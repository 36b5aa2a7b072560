"""Runs until canceled (or 30 s): cancel lands between the short sleeps."""

import time

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.005)
        return "finished"
