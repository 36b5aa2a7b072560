"""setup() sleeps for 30 s: a stop arrives while the model is not ready (Cog's
TestSIGTERMDuringSetup)."""

import time

from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self) -> None:
        time.sleep(30)

    def predict(self, s: str) -> str:
        return "hello " + s
