"""Sync predictor that spins the CPU in pure Python for `seconds`.

It holds the GIL almost all the time, which is the worst case for a server
that must answer health checks and cancel requests while predict runs.
"""

import time

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def setup(self) -> None:
        """Nothing to load; present so servers exercise their setup path."""

    def predict(self, seconds: float = Input(default=5.0, ge=0.0, le=600.0)) -> str:
        deadline = time.monotonic() + seconds
        spins = 0
        while time.monotonic() < deadline:
            spins += 1
        return f"spun {spins} times"
