"""The user's ``healthcheck()``: bounded, shared, never stacking up (spec §18.3).

Concurrent health-check requests share one in-flight invocation, and a
timed-out invocation is not started again until it returns: a hung sync
healthcheck occupies one thread, not one per poll.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["UserHealthcheck"]

TIMEOUT = 5.0


class UserHealthcheck:
    """Runs the user's healthcheck and reports an error string, or None if healthy."""

    def __init__(self, fn: Callable[[], Any], timeout: float = TIMEOUT) -> None:
        self._fn = fn
        self._timeout = timeout
        self._running: asyncio.Future[str | None] | None = None

    async def check(self) -> str | None:
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._invoke())
        try:
            return await asyncio.wait_for(asyncio.shield(self._running), self._timeout)
        except asyncio.TimeoutError:
            return (
                "Healthcheck failed: user-defined healthcheck timed out after "
                f"{self._timeout:.1f} seconds"
            )

    async def _invoke(self) -> str | None:
        try:
            if inspect.iscoroutinefunction(self._fn):
                result = await self._fn()
            else:
                result = await asyncio.to_thread(self._fn)
                if inspect.isawaitable(result):
                    result = await result
        except Exception as exc:
            return f"Healthcheck failed: {type(exc).__name__}: {exc}"
        if result is False:
            return "Healthcheck failed: user-defined healthcheck returned False"
        return None
