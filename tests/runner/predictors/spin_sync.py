"""A pure-Python loop: cancel lands at a bytecode boundary."""

from cog import BasePredictor, CancelationException


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.cleanups = 0

    def predict(self, seconds: float = 30.0) -> str:
        import time

        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                pass
        except CancelationException:
            self.cleanups += 1
            raise
        return "finished"
