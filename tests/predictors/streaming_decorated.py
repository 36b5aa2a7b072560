"""@streaming on an iterator entry point adds x-cog-streaming to POST /predictions."""

from typing import Iterator

from cog import BasePredictor, streaming


class Predictor(BasePredictor):
    @streaming
    def predict(self, prompt: str) -> Iterator[str]:
        yield prompt
