"""A pure-Python loop that reports entering ``predict()`` and the cancel it sees there.

The test sets ``ENTERED`` (callable from any thread) before it starts a
prediction, so it can cancel only once the call is running. ``CALLS`` counts
the calls that began; ``CAUGHT`` keeps each ``CancelationException`` raised
inside the call, which a cancel landing before the call never produces.
"""

import time
from collections.abc import Callable

from cog import BasePredictor, CancelationException

ENTERED: Callable[[], None] = lambda: None
CALLS: list[float] = []
CAUGHT: list[CancelationException] = []


class Predictor(BasePredictor):
    def predict(self, seconds: float = 30.0) -> str:
        CALLS.append(seconds)
        deadline = time.monotonic() + seconds
        try:
            ENTERED()  # inside the try: a cancel landing in here is still seen below
            while time.monotonic() < deadline:
                pass
        except CancelationException as exc:
            CAUGHT.append(exc)
            raise
        return "finished"
