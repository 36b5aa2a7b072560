"""Slots, and the opt-in admission queue in front of them.

Cog's rule (spec §9.2) is that a request takes a free slot at once or is
refused with 409. With a queue (``--queue N``, ``COGRT_QUEUE``), up to N
requests that find every slot taken wait for one instead, first come first
served, for at most ``queue_timeout`` seconds each; a request that finds
the queue full, or waits too long, is refused as before.

A slot freed while requests wait is handed to the head of the queue in the
same loop step that frees it (``release``): it is *reserved* for that
request until it starts its prediction with the ``Ticket`` it got, so a
request arriving meanwhile cannot take it, and the other waiters are not
woken to compete for it. A waiter that leaves after its slot was reserved
(its client went away) passes the slot on to the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from cogrt.errors import AtCapacityError

if TYPE_CHECKING:
    from cogrt.runner.prediction import Prediction

__all__ = ["DEFAULT_QUEUE_TIMEOUT", "RECENT_CANCELS", "Admission", "Place", "Ticket"]

_log = logging.getLogger("cogrt.runner.runtime")

RECENT_CANCELS = 1024
"""How many canceled prediction ids a repeated cancel is still answered for."""

DEFAULT_QUEUE_TIMEOUT = 30.0
"""Seconds a queued request waits for a slot before its 409 (``COGRT_QUEUE_TIMEOUT``)."""


class Ticket:
    """A slot reserved for one request that waited in the queue.

    ``Runtime.start`` takes it; anything else that ends the request first must
    ``release`` it so the slot goes to the next waiter. Both are idempotent.
    """

    __slots__ = ("_admission", "_held", "waited")

    def __init__(self, admission: Admission, waited: float) -> None:
        self._admission = admission
        self._held = True
        self.waited = waited
        """Seconds the request spent in the queue."""

    @property
    def held(self) -> bool:
        """The slot is still reserved: neither taken nor released."""
        return self._held

    def take(self) -> bool:
        """Turn the reservation into an occupied slot (by the caller); False if already used."""
        if not self._held:
            return False
        self._held = False
        self._admission.reserved -= 1
        return True

    def release(self) -> None:
        """Give the reserved slot back: to the next waiter, or free."""
        if self.take():
            self._admission.hand_over()


class Admission:
    """Which predictions hold the slots, and who waits for one."""

    def __init__(self, *, queue: int = 0, queue_timeout: float = DEFAULT_QUEUE_TIMEOUT) -> None:
        self.slots = 1
        self.inflight: dict[str, Prediction] = {}
        self._recent_cancels: dict[str, None] = {}  # insertion-ordered: oldest first
        self.reserved = 0
        """Slots handed to queued requests that have not started their prediction yet."""
        self.queue_max = max(queue, 0)
        self.queue_timeout = queue_timeout
        self._waiters: deque[asyncio.Future[str]] = deque()

    def cancel(self, prediction_id: str) -> bool:
        """Ask an in-flight prediction to cancel; False if no such prediction was asked.

        A repeat that arrives after the prediction already stopped (cogrt stops a
        sleeping predictor at once, where Cog's waits for the sleep to end) is
        answered as the first was, for the last ``RECENT_CANCELS`` ids: a client
        retrying its cancel must not read "not found" as a failure.
        """
        prediction = self.inflight.get(prediction_id)
        if prediction is None:
            return prediction_id in self._recent_cancels
        prediction.cancel()
        self._recent_cancels[prediction_id] = None
        if len(self._recent_cancels) > RECENT_CANCELS:
            del self._recent_cancels[next(iter(self._recent_cancels))]
        return True

    @property
    def full(self) -> bool:
        """Every slot is running a prediction or reserved for a queued request."""
        return len(self.inflight) + self.reserved >= self.slots

    @property
    def queue_length(self) -> int:
        """Requests waiting for a slot right now."""
        return len(self._waiters)

    @property
    def refuses(self) -> bool:
        """A request arriving now would be refused: every slot taken and no room to wait."""
        return self.full and len(self._waiters) >= self.queue_max

    def queue_report(self) -> dict[str, Any] | None:
        """The health body's ``queue`` object, when there is a queue."""
        if not self.queue_max:
            return None
        return {"length": len(self._waiters), "max": self.queue_max}

    def check(self, ticket: Ticket | None) -> None:
        """``AtCapacityError`` unless a request with ``ticket`` (or none) can have a slot now."""
        self.hand_over()  # drops waiters cancelled since the last slot was freed
        if (ticket is None or not ticket.held) and (self.full or self._waiters):
            raise AtCapacityError(self.slots)  # nobody jumps the queue

    def admit(self, prediction: Prediction, ticket: Ticket | None) -> None:
        """Give ``prediction`` a slot (after ``check``): its ticket's reserved one, or a free."""
        if ticket is not None and ticket.take():
            prediction.queue_wait = ticket.waited
        self.inflight[prediction.id] = prediction

    def release(self, prediction: Prediction) -> bool:
        """Free ``prediction``'s slot, at once handing it to the head of the queue.

        False when the prediction held no slot (already released).
        """
        if self.inflight.get(prediction.id) is not prediction:
            return False
        del self.inflight[prediction.id]
        self.hand_over()
        return True

    def hand_over(self) -> None:
        """Reserve each free slot for the longest-waiting request, and wake just that one."""
        while self._waiters and not self.full:
            waiter = self._waiters.popleft()
            if waiter.done():  # cancelled; its task leaves the queue at its next step
                continue
            self.reserved += 1
            waiter.set_result(_GRANTED)

    def join(self) -> Place:
        """A place at the back of the queue; ``AtCapacityError`` if the queue is full."""
        self.hand_over()
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[str] = loop.create_future()
        if not self.full and not self._waiters:  # a slot freed while the request was read
            self.reserved += 1
            waiter.set_result(_GRANTED)
        elif len(self._waiters) >= self.queue_max:
            raise AtCapacityError(self.slots)
        else:
            self._waiters.append(waiter)
        return Place(self, waiter, loop.call_later(self.queue_timeout, self._end, waiter, _EXPIRED))

    def expire_all(self) -> None:
        """Refuse every queued request now (the server is stopping)."""
        while self._waiters:
            self._end(self._waiters[0], _EXPIRED)

    def forget(self, waiter: asyncio.Future[str]) -> None:
        """Take ``waiter`` out of the queue, if it is in it."""
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass

    def _end(self, waiter: asyncio.Future[str], outcome: str) -> None:
        """Take a waiter out of the queue with ``outcome``; a granted one passes its slot on."""
        if not waiter.done():
            self.forget(waiter)
            waiter.set_result(outcome)
        elif not waiter.cancelled() and waiter.result() == _GRANTED and outcome == _LEFT:
            self.reserved -= 1
            self.hand_over()

    async def drain(self, timeout: float) -> None:
        """Let in-flight predictions finish within ``timeout``, then cancel the rest."""
        if self.inflight:
            count = len(self.inflight)
            _log.info("draining: %d prediction(s) in flight, canceled after %g s", count, timeout)
        if timeout > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._all_done(), timeout)
        for prediction in list(self.inflight.values()):
            prediction.cancel()
        await self._all_done()

    async def _all_done(self) -> None:
        """Wait for every prediction in flight now (gather cancels its waits if cancelled)."""
        await asyncio.gather(*(p.wait() for p in list(self.inflight.values())))


_GRANTED, _EXPIRED, _LEFT = "granted", "expired", "left"


class Place:
    """One request's place in the admission queue."""

    def __init__(self, admission: Admission, waiter: asyncio.Future[str], timer: Any) -> None:
        self._admission = admission
        self._waiter = waiter
        self._timer = timer
        self._started = asyncio.get_running_loop().time()
        self._ticket: Ticket | None = None
        self._left = False

    def leave(self) -> None:
        """The client went away: out of the queue, or the slot reserved for it passed on."""
        if self._left:
            return
        self._left = True
        if self._ticket is not None:
            self._ticket.release()
        else:
            self._admission._end(self._waiter, _LEFT)

    async def wait(self) -> Ticket | None:
        """The reserved slot; None if ``leave`` came first; ``AtCapacityError`` on time-out.

        Cancelling the waiting task leaves the queue too.
        """
        try:
            outcome = await self._waiter
        except asyncio.CancelledError:  # the task was cancelled, and with it the waiter
            self._admission.forget(self._waiter)
            self.leave()
            raise
        finally:
            self._timer.cancel()
        if self._left:  # possibly after its slot was reserved: ``leave`` passed that on
            return None
        if outcome == _EXPIRED:
            raise AtCapacityError(self._admission.slots)
        loop = asyncio.get_running_loop()
        self._ticket = Ticket(self._admission, loop.time() - self._started)
        return self._ticket
