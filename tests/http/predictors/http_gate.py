"""predict() holds its slot until the test sets RELEASE (in-process tests only).

RELEASE looks like an ``Event`` but its wait is a plain ``Lock.acquire``: a
blocking C call that a cancel does not wake (``Event.wait`` is interrupted on
cancel), so tests can hold a canceled prediction in its slot.
"""

import threading

from cog import BasePredictor


class _Gate:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self._opened = False

    def set(self) -> None:
        if not self._opened:
            self._opened = True
            self._lock.release()

    def wait(self, timeout: float) -> bool:
        if self._lock.acquire(timeout=timeout):
            self._lock.release()
            return True
        return False


STARTED = threading.Event()
RELEASE = _Gate()


class Predictor(BasePredictor):
    def predict(self, text: str = "x") -> str:
        STARTED.set()
        RELEASE.wait(30)
        return f"released {text}"
