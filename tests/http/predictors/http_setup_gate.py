"""setup() waits for the test: STARTING answers (503 predictions, 503 schema)."""

import threading

from cog import BasePredictor

RELEASE = threading.Event()


class Predictor(BasePredictor):
    def setup(self) -> None:
        RELEASE.wait(30)

    def predict(self) -> str:
        return "ready"
