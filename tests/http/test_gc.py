"""The served process hides its loaded model from the garbage collector."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from cogrt.http.app import MANY_SLOTS_GC_THRESHOLD
from tests.support.harness import served
from tests.support.predictors import HTTP

load = HTTP.load


async def _tuned_after_setup(name: str, **kwargs: Any) -> tuple[int, tuple[int, int, int]]:
    """(objects frozen, thresholds) once the app settled; the process state is restored."""
    gc.unfreeze()
    saved = gc.get_threshold()
    try:
        async with served(load(name).Predictor, **kwargs):
            for _ in range(100):  # the tuning runs in a task right after setup
                if gc.get_freeze_count():
                    break
                await asyncio.sleep(0.01)
            return gc.get_freeze_count(), gc.get_threshold()
    finally:
        gc.unfreeze()
        gc.set_threshold(*saved)


async def test_serve_freezes_what_setup_built_and_keeps_thresholds_for_one_slot() -> None:
    frozen, threshold = await _tuned_after_setup("http_echo", tune_gc_after_setup=True)
    assert frozen > 0
    assert threshold == gc.get_threshold()


async def test_many_slots_raise_the_collection_thresholds() -> None:
    frozen, threshold = await _tuned_after_setup(
        "sse_async_gate", tune_gc_after_setup=True, concurrency=8
    )
    assert frozen > 0
    assert threshold == MANY_SLOTS_GC_THRESHOLD


async def test_embedded_apps_leave_the_collector_alone() -> None:
    frozen, threshold = await _tuned_after_setup("http_echo")
    assert frozen == 0
    assert threshold == gc.get_threshold()
