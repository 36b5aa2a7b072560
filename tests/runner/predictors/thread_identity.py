import threading

from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self) -> None:
        self.setup_thread = threading.get_ident()

    def predict(self) -> list[int]:
        return [self.setup_thread, threading.get_ident()]
