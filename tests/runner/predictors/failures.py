import math
import sys

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, kind: str) -> object:
        if kind == "raise":
            raise ValueError("something broke")
        if kind == "raise_empty":
            raise KeyError()
        if kind == "exit":
            sys.exit(2)
        if kind == "interrupt":
            raise KeyboardInterrupt
        if kind == "bytes":
            return b"raw"
        if kind == "nan":
            return {"x": [1.0, math.nan]}
        return "fine"
