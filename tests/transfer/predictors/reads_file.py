"""A legacy ``File`` input: records that predict() was entered, then reads ``size`` bytes."""

from cog import BasePredictor, File

ENTERED = []


class Predictor(BasePredictor):
    def predict(self, doc: File, size: int = -1) -> str:
        ENTERED.append(type(doc).__name__)
        return doc.read(size).decode()
