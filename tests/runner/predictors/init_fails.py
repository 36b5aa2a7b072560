"""The constructor raises: setup fails with this file's frame."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def __init__(self) -> None:
        raise KeyError("no config")

    def predict(self) -> str:
        return "never"
