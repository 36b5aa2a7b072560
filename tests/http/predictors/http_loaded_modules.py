"""Answers which of the named modules the server process has imported (``sys.modules``)."""

import sys

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, names: str) -> str:
        return ",".join(name for name in names.split(",") if name in sys.modules)
