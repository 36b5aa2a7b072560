"""Opted in to SSE with @streaming; SSE is not served yet, so it answers in sync mode."""

from collections.abc import Iterator

from cog import BasePredictor, streaming


class Predictor(BasePredictor):
    @streaming
    def predict(self, n: int = 2) -> Iterator[str]:
        for i in range(n):
            yield f"chunk-{i}"
