"""predict() and a train() that runs until RELEASE, in 10 ms steps so cancel lands (in-process)."""

import threading
import time

from cog import BasePredictor

STARTED = threading.Event()
RELEASE = threading.Event()


class Predictor(BasePredictor):
    def predict(self, text: str = "p") -> str:
        return f"predicted {text}"

    def train(self, steps: int = 1) -> str:
        STARTED.set()
        while not RELEASE.is_set():
            time.sleep(0.01)
        return f"trained {steps}"
