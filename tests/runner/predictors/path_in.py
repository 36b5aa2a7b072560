from cog import BasePredictor, Path


class Predictor(BasePredictor):
    def predict(self, doc: Path) -> str:
        return doc.read_text()
