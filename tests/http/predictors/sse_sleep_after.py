"""Cog's SSE history test predictor: ``count`` chunks, then ``sleep_after`` seconds (subprocess)."""

import time
from collections.abc import Iterator

from cog import BasePredictor, Input, streaming


class Predictor(BasePredictor):
    @streaming
    def predict(
        self,
        count: int = Input(default=4),
        sleep_after: float = Input(default=2.0),
        sleep_between: float = Input(default=0.0),
    ) -> Iterator[str]:
        for i in range(count):
            yield f"chunk-{i}"
            time.sleep(sleep_between)
        time.sleep(sleep_after)
