"""@streaming: waits for RELEASE, then yields ``n`` chunks of ``size`` characters back to back.

Each SSE frame is ~16 KiB by default, so a reader that stops passes both the
frame and the byte budget of its live queue (lag tests, in process).
"""

import threading
from collections.abc import Iterator

from cog import BasePredictor, streaming

RELEASE = threading.Event()


class Predictor(BasePredictor):
    @streaming
    def predict(self, n: int = 2000, size: int = 16384) -> Iterator[str]:
        RELEASE.wait(30)
        pad = "x" * size
        for i in range(n):
            yield f"{i}:{pad}"
