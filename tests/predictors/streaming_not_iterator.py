"""@streaming() on an entry that returns a plain value is ignored, not an error (§4.6)."""

from cog import BasePredictor, streaming


class Predictor(BasePredictor):
    @streaming()
    def predict(self, prompt: str) -> str:
        return prompt
