"""Opted in to SSE with @streaming: ``Accept: text/event-stream`` gets an event stream."""

from collections.abc import Iterator

from cog import BasePredictor, streaming


class Predictor(BasePredictor):
    @streaming
    def predict(self, n: int = 2) -> Iterator[str]:
        for i in range(n):
            yield f"chunk-{i}"
