"""Sync predictor that sleeps in one blocking C call (`time.sleep`) for `seconds`.

A cancel injected as an exception waits for the call to return; cogrt wakes
the sleep on cancel (issue 17), Cog 0.23.1 does not.
"""

import time

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def setup(self) -> None:
        """Nothing to load; present so servers exercise their setup path."""

    def predict(self, seconds: float = Input(default=30.0, ge=0.0, le=600.0)) -> str:
        time.sleep(seconds)
        return f"slept {seconds}"
