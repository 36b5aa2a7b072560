"""Pacing 409 answers, so that refusing clients cannot starve the predictions that run.

A refusal costs this process a few hundred microseconds of Python on the
event loop (HTTP parsing, the ASGI exchange, the response), where Cog's
Rust server spends a few. Clients that retry at once keep the loop busy
with them: every step of a running prediction (its start, its worker
thread's result coming back, its response) then waits behind a whole round
of refusals, and with 64 retrying clients on one slot successful
predictions fell to a tenth of the one-client rate. (Not the GIL hand-off
to the worker thread: with a switch interval of 0.05, 0.5 or 5 ms that
rate was the same, 12-13 a second under uvicorn.)

So 409s leave no faster than one per ``REFUSAL_INTERVAL``, in arrival order:
a refusal when none was sent within that interval goes out at once (a
lone client sees no delay); under a storm each waits its turn, at most
``MAX_REFUSAL_DELAY``. The answer is the same 409, only later, and the
loop's time goes to the predictions. A waiting refusal costs one timer.
"""

from __future__ import annotations

import asyncio

__all__ = ["MAX_REFUSAL_DELAY", "REFUSAL_INTERVAL", "RefusalPacer"]

REFUSAL_INTERVAL = 0.008
"""Seconds between two 409 answers under a storm: at most 125 a second, which costs a tenth
to a quarter of a core (a 409 costs 0.3-2 ms under hypercorn, by how busy the machine is)."""
MAX_REFUSAL_DELAY = 2.0
"""The longest a 409 is held back (250 waiting refusals); past that, refusals go out at once."""


class RefusalPacer:
    """Hands out the moments 409 answers may be sent, one per interval, first come first served."""

    def __init__(
        self, interval: float = REFUSAL_INTERVAL, max_delay: float = MAX_REFUSAL_DELAY
    ) -> None:
        self._interval = interval
        self._max_delay = max_delay
        self._next = 0.0
        """Loop time from which the next refusal may go out."""

    async def turn(self) -> None:
        """Return when this refusal may be answered."""
        now = asyncio.get_running_loop().time()
        delay = self._next - now
        if delay <= 0:
            self._next = now + self._interval
            return
        if delay > self._max_delay:
            return
        self._next += self._interval
        await asyncio.sleep(delay)
