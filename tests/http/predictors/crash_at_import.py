"""Segfaults while its module is imported, as a broken C extension would at load."""

import ctypes

ctypes.string_at(0)

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        return "never"
