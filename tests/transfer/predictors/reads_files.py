"""A list of legacy ``File`` inputs: records that predict() was entered, joins their bytes."""

from cog import BasePredictor, File

ENTERED = []


class Predictor(BasePredictor):
    def predict(self, docs: list[File]) -> str:
        ENTERED.append(len(docs))
        return "+".join(doc.read().decode() for doc in docs)
