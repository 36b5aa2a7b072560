"""Literal[...] is treated exactly like choices (cogrt extension, §6.3)."""

from typing import Literal

from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(
        self,
        mode: Literal["fast", "slow"] = "fast",
        level: Literal[1, 2, 3] = Input(description="Level"),
    ) -> str:
        return mode * level
