"""@streaming: a log line, metrics in every mode (and a deletion), then one chunk."""

import sys
from collections.abc import Iterator

from cog import BasePredictor, current_scope, streaming


class Predictor(BasePredictor):
    @streaming
    def predict(self) -> Iterator[str]:
        print("log line")
        print("to stderr", file=sys.stderr)
        scope = current_scope()
        scope.record_metric("m", 1)
        scope.record_metric("count", 2, mode="incr")
        scope.record_metric("seen", "a", mode="append")
        scope.record_metric("gone", 1)
        scope.record_metric("gone", None)
        yield "chunk-0"
