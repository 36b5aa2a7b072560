"""The seed documents' example: the output file in a fresh ``mkdtemp()`` directory."""

import tempfile

from cog import BasePredictor, Path


class Predictor(BasePredictor):
    def predict(self, text: str = "hello") -> Path:
        out_path = Path(tempfile.mkdtemp()) / "my-file.txt"
        out_path.write_text(text)
        return out_path
