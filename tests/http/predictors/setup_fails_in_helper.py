"""setup() fails in a helper of the model's own; predictions then get 503."""

from cog import BasePredictor


def download_weights(url: str) -> bytes:
    raise ConnectionError(f"cannot reach {url}")


class Predictor(BasePredictor):
    def setup(self) -> None:
        print("fetching weights")
        download_weights("https://weights.invalid/model.bin")

    def predict(self) -> str:
        return "never"
