"""An async generator annotated AsyncIterator[int]: the same iterator array as sync."""

from collections.abc import AsyncIterator

from cog import BasePredictor


class Predictor(BasePredictor):
    async def predict(self, n: int) -> AsyncIterator[int]:
        for i in range(n):
            yield i
