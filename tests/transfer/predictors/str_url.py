from cog import BasePredictor

CALLS = []


class Predictor(BasePredictor):
    def predict(self, url: str) -> str:
        CALLS.append(url)
        return type(url).__name__ + ":" + url
