"""Async predictor that sleeps: a many-slot model for disconnect tests."""

import asyncio

from cog import BasePredictor


class Predictor(BasePredictor):
    async def predict(self, seconds: float = 1.0) -> str:
        await asyncio.sleep(seconds)
        return f"slept {seconds}"
