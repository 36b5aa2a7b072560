"""Streams ``count`` tokens: the SSE mode's time to first token and chunk count."""

from cog import BasePredictor, ConcatenateIterator, Input, streaming


class Predictor(BasePredictor):
    @streaming
    def predict(self, count: int = Input(default=3, ge=0)) -> ConcatenateIterator[str]:
        for index in range(count):
            yield f"t{index} "
