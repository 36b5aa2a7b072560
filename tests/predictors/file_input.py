"""The deprecated File type and pathlib.Path are both uri strings."""

import pathlib

from cog import BasePredictor, File


class Predictor(BasePredictor):
    def predict(self, document: File, folder: pathlib.Path) -> str:
        return "ok"
