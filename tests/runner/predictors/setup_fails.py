from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self) -> None:
        print("loading weights")
        raise RuntimeError("weights are corrupt")

    def predict(self) -> str:
        return "never"
