"""@streaming: yields ``before`` chunks, waits for RELEASE, yields ``after`` more (in-process)."""

import threading
from collections.abc import Iterator

from cog import BasePredictor, streaming

PAUSED = threading.Event()
RELEASE = threading.Event()


class Predictor(BasePredictor):
    @streaming
    def predict(self, before: int = 3, after: int = 3) -> Iterator[str]:
        for i in range(before):
            yield f"chunk-{i}"
        PAUSED.set()
        RELEASE.wait(30)
        for i in range(before, before + after):
            yield f"chunk-{i}"
