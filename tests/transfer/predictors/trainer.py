"""A predictor with a train() method, loaded as both targets."""

from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self, text: str = "p") -> str:
        return f"predicted {text}"

    def train(self, steps: int = 1) -> str:
        print(f"training {steps}")
        return f"trained {steps}"
