"""No garbage collection while ``python -m cogrt`` imports its stack.

Importing asyncio, Starlette, hypercorn, msgspec and cogrt itself creates
some 40,000 tracked objects (modules, classes, functions) that live as long
as the process, and no garbage to speak of; CPython's collector still ran 72
collections over them before the echo model was READY: 19-23 ms of a start of
about 300 ms on the reference machine (0.1-0.3 ms with the pause).

``python -m cogrt`` pauses the collector before its imports (``pause``) and,
just before the model's own code runs, moves what was imported out of the
collector's sight (``gc.freeze``) and restarts it (``resume``): the model
imports and sets up with the collector as CPython sets it, and never pays to
rescan cogrt's imports. The runtime resumes it too once setup has ended, so a
server whose model never loaded (a missing file) still collects. Only a
collector that cogrt paused is restarted: a host program that disabled it (an
app embedding ``cogrt.serve``) keeps it so.
"""

from __future__ import annotations

import gc

__all__ = ["pause", "resume"]

_paused = False


def pause() -> None:
    """Stop the collector for the imports ahead, if it runs."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Freeze what was imported and restart the collector, if ``pause`` stopped it."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
