"""Waiting in tests: every wait has a deadline, and fails the test when it passes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``predicate`` every 2 ms until true; fail after ``timeout`` seconds.

    For state nothing signals; where something does, ``until_signalled`` wakes
    on the signal instead.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached before the deadline"
        await asyncio.sleep(0.002)


async def until_signalled(
    changed: asyncio.Event, predicate: Callable[[], bool], timeout: float = 10.0
) -> None:
    """Wait until ``predicate()`` holds, re-checking each time ``changed`` is set.

    The owner sets ``changed`` after every change ``predicate`` may read (a
    request recorded, a sleep asked for); this clears it before each wait.
    """

    async def watch() -> None:
        while not predicate():
            changed.clear()
            await changed.wait()

    await asyncio.wait_for(watch(), timeout)


async def settle(turns: int = 20) -> None:
    """Give the loop ``turns`` iterations: work already scheduled has run by then."""
    for _ in range(turns):
        await asyncio.sleep(0)
