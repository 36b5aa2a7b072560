"""Catches the cancel inside ``predict()`` and returns normally (sync).

``ENTERED`` is called inside the ``try``, so the test cancels only once the
call is running and the cancel is always caught here.
"""

import time
from collections.abc import Callable

from cog import BasePredictor, CancelationException

ENTERED: Callable[[], None] = lambda: None


class Predictor(BasePredictor):
    def predict(self) -> str:
        deadline = time.monotonic() + 30
        try:
            ENTERED()
            while time.monotonic() < deadline:
                pass
        except CancelationException:
            return "swallowed"
        return "never canceled"
