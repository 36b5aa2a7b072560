"""predict() fails in a helper of the model's own."""

from cog import BasePredictor


def tokenize(text: str) -> list[str]:
    raise ValueError(f"cannot tokenize {text!r}")


class Predictor(BasePredictor):
    def predict(self, text: str = "hello") -> str:
        return " ".join(tokenize(text))
