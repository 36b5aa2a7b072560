"""Blocks in one C call (``Lock.acquire``) until the test releases ``RELEASE``.

An injected cancel can only land at a bytecode boundary, so it waits for
the call to return. ``ENTERED`` runs inside the ``try`` whose ``finally``
makes the C call: wherever a cancel sent after ``ENTERED`` lands, the call
is still made, and a cancel sent before ``predict()`` never reaches it.
"""

import threading
from collections.abc import Callable

from cog import BasePredictor

ENTERED: Callable[[], None] = lambda: None
RELEASE = threading.Lock()
RELEASE.acquire()  # held until the test releases it
RETURNED: list[str] = []


class Predictor(BasePredictor):
    def predict(self) -> str:
        try:
            ENTERED()
        finally:
            RELEASE.acquire(timeout=30)
        RETURNED.append("returned")  # a cancel pending in the C call lands before this
        return "released"
