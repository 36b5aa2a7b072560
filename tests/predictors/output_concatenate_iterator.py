"""ConcatenateIterator[str]: an iterator array displayed as concatenated text."""

from cog import BasePredictor, ConcatenateIterator


class Predictor(BasePredictor):
    def predict(self, prompt: str) -> ConcatenateIterator[str]:
        for word in prompt.split():
            yield word + " "
