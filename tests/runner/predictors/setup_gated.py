"""setup() blocks until the test sets GATE, so STARTING can be observed."""

import threading

from cog import BasePredictor

GATE = threading.Event()


class Predictor(BasePredictor):
    def setup(self) -> None:
        GATE.wait(30)

    def predict(self) -> str:
        return "ready"
