"""Segfaults, as a broken C extension would, when asked to ("segfault"); echoes otherwise."""

import ctypes

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, text: str = "hi") -> str:
        if text == "segfault":
            ctypes.string_at(0)  # reads address 0: SIGSEGV
        return text
