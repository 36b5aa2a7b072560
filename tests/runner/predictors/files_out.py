import tempfile

from cog import BasePredictor, Path


class Predictor(BasePredictor):
    def predict(self, text: str = "hello") -> Path:
        out = Path(tempfile.mkdtemp()) / "out.txt"
        out.write_text(text)
        return out
