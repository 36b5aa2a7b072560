"""The served process hides its loaded model from the garbage collector."""

from __future__ import annotations

import asyncio
import gc

from .helpers import load, served


async def _frozen_after_setup(**kwargs: object) -> int:
    gc.unfreeze()
    try:
        async with served(load("http_echo").Predictor, **kwargs):
            for _ in range(100):  # the freeze runs in a task right after setup
                if gc.get_freeze_count():
                    break
                await asyncio.sleep(0.01)
            return gc.get_freeze_count()
    finally:
        gc.unfreeze()


async def test_serve_freezes_everything_setup_built() -> None:
    assert await _frozen_after_setup(freeze_gc_after_setup=True) > 0


async def test_embedded_apps_leave_the_collector_alone() -> None:
    assert await _frozen_after_setup() == 0
