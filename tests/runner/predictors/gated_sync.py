"""predict() holds its slot until the test sets RELEASE."""

import threading

from cog import BasePredictor

STARTED = threading.Event()
RELEASE = threading.Event()


class Predictor(BasePredictor):
    def predict(self) -> str:
        STARTED.set()
        RELEASE.wait(30)
        return "released"
