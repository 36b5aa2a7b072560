"""An async ``predict()`` that reports entering and records the cancel it sees.

``CALLS`` counts the calls that began; ``SAW_CANCEL`` gets one entry per
``CancelledError`` raised inside the call (the value of ``swallow``).
"""

import asyncio
from collections.abc import Callable

from cog import BasePredictor

ENTERED: Callable[[], None] = lambda: None
CALLS: list[bool] = []
SAW_CANCEL: list[bool] = []


class Predictor(BasePredictor):
    async def predict(self, swallow: bool = False) -> str:
        CALLS.append(swallow)
        try:
            ENTERED()
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            SAW_CANCEL.append(swallow)
            if swallow:
                return "swallowed"
            raise
        return "slept"
