"""The retry policy of requests that must land: uploads (spec §10.5), terminal webhooks (§13.3).

Both make an attempt, and after a failure that a retry could fix (the
connection failed, or the answer was 429 or 5xx) sleep and try again, a
bounded number of times, each request with the same timeouts. What differs
is the numbers each spec asks for, which the callers pass: how long they
sleep (an upload retries three times within a second, a terminal webhook
twelve times over minutes) and whether 408 is worth retrying.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

__all__ = ["RETRY_STATUSES", "TIMEOUT", "retrying"]

TIMEOUT = (10.0, 30.0, 30.0, 30.0)
"""Connect, read, write and pool timeouts (``httpx.Timeout(30.0, connect=10.0)``).

Spec §10.5 asks for at least 25 s: a slow store must not fail a finished prediction."""
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Answers that a later attempt may not get: the receiver is busy or failing for now."""


async def retrying(
    attempt: Callable[[], Awaitable[bool]],
    delays: Sequence[float],
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> tuple[int, bool]:
    """Run ``attempt`` until it returns ``False`` (done, or failed for good) or ``delays`` run out.

    ``attempt`` returns ``True`` when it failed in a way a retry could fix;
    retry ``n`` follows ``sleep(delays[n - 1])``. Returns how many attempts
    ran, and whether the last one still wanted a retry (the caller gives up).
    """
    attempts = 1
    while await attempt():
        if attempts > len(delays):
            return attempts, True
        await sleep(delays[attempts - 1])
        attempts += 1
    return attempts, False
