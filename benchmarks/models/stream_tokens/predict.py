"""Streaming predictor yielding many tiny tokens as fast as possible.

It measures per-chunk overhead of output streaming (SSE framing, webhook
throttling) because producing a token costs almost nothing.
"""

from cog import BasePredictor, ConcatenateIterator, Input, streaming


class Predictor(BasePredictor):
    def setup(self) -> None:
        """Nothing to load; present so servers exercise their setup path."""

    @streaming
    def predict(
        self, tokens: int = Input(default=1000, ge=0, le=1_000_000)
    ) -> ConcatenateIterator[str]:
        for index in range(tokens):
            yield f"t{index} "
