"""The garbage collector's settings for a process that serves one model.

Process-wide, so only the entry points that own the process (``serve()``,
``python -m cogrt worker``) apply them; an app or worker embedded in a
larger program leaves the collector as its host set it.
"""

from __future__ import annotations

import gc

from cogrt.runner.runtime import Runtime

__all__ = ["MANY_SLOTS_GC_THRESHOLD", "tune_gc", "tune_gc_after_setup"]

MANY_SLOTS_GC_THRESHOLD = (50_000, 20, 100)
"""``gc.set_threshold`` for models with more than one slot (CPython's default: (700, 10, 10))."""


def tune_gc(slots: int) -> None:
    """Hide what is loaded now from the collector; collect less often with many slots.

    A loaded model is often millions of tracked objects: frozen, no full
    collection walks them again. With many slots, thousands of in-flight
    predictions' objects are live at once and CPython's default thresholds
    re-scanned them so often that collection took half of each request's
    CPU (in-process at 1000 in flight: 390 -> 160 us per request). With one
    slot that cost does not arise, and default thresholds free cyclic
    garbage promptly (a caught exception's traceback can pin GPU tensors).
    """
    gc.freeze()  # no gc.collect() first: a full pass over a big model would stall the loop
    if slots > 1:
        gc.set_threshold(*MANY_SLOTS_GC_THRESHOLD)


async def tune_gc_after_setup(runtime: Runtime) -> None:
    """``tune_gc`` once ``setup()`` has built the model (whatever its outcome)."""
    await runtime.wait_setup()
    tune_gc(runtime.slots)
