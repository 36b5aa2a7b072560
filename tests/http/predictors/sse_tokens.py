"""A @streaming sync generator of ``n`` tokens, as fast as it can yield (SSE volume tests)."""

from collections.abc import Iterator

from cog import BasePredictor, streaming


class Predictor(BasePredictor):
    @streaming
    def predict(self, n: int = 1000) -> Iterator[str]:
        for i in range(n):
            yield f"tok-{i}"
