"""predict() prints a line, holds its slot until the test sets RELEASE, then prints another."""

import threading

from cog import BasePredictor

STARTED = threading.Event()
RELEASE = threading.Event()


class Predictor(BasePredictor):
    def predict(self, tag: str) -> str:
        print(f"{tag} started")
        STARTED.set()
        RELEASE.wait(30)
        print(f"{tag} released")
        return tag
