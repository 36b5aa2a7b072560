from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        print("about to fail")
        raise RuntimeError("prediction went wrong")
