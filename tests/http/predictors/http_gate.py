"""predict() holds its slot until the test sets RELEASE (in-process tests only)."""

import threading

from cog import BasePredictor

STARTED = threading.Event()
RELEASE = threading.Event()


class Predictor(BasePredictor):
    def predict(self, text: str = "x") -> str:
        STARTED.set()
        RELEASE.wait(30)
        return f"released {text}"
