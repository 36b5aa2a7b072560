"""The ``/health-check`` body, and the user's ``healthcheck()`` it runs.

The user's healthcheck is bounded, shared, never stacking up (spec §18.3).
Concurrent health-check requests share one in-flight invocation, and a
timed-out invocation is not started again until it returns: a hung sync
healthcheck occupies one thread, not one per poll.
"""

from __future__ import annotations

import asyncio
import inspect
import platform
from collections.abc import Callable
from typing import Any

from cogrt.sdk import __version__ as cog_api_version
from cogrt.version import __version__

__all__ = ["UserHealthcheck", "health_report"]

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


async def health_report(
    status: str,
    setup: dict[str, Any],
    healthcheck: UserHealthcheck | None,
    queue: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The body for a runtime in ``status``; a ready one runs ``healthcheck`` too (spec §18.1).

    ``queue`` (length and size of the admission queue) is a key Cog's body lacks;
    its clients ignore keys they do not know.
    """
    body: dict[str, Any] = {"status": status, "setup": setup}
    if queue is not None:
        body["queue"] = queue
    body["version"] = {
        "coglet": __version__,
        "cogrt": __version__,
        "python_sdk": cog_api_version,
        "python": platform.python_version(),
    }
    if status in ("READY", "BUSY") and healthcheck is not None:
        error = await healthcheck.check()
        if error is not None:
            body["status"] = "UNHEALTHY"
            body["user_healthcheck_error"] = error
    return body
