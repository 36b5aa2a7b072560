"""The two load shapes: a closed loop of N clients, an open loop of arrivals at a rate.

Closed loop: N workers, each sends its next prediction as soon as the last
one is answered; the server's speed sets the rate. Open loop: predictions
start at the intended times of ``schedule.arrivals`` whatever the server's
speed, and latency counts from the intended time, so queueing in the client
(no free connection) or the server shows up in the figures.

A level stops sending at its deadline (or after ``-n`` predictions); the
predictions already sent are awaited (each bounded by the request timeout).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable

from cogrt.bench.exchanges import Requester
from cogrt.bench.outcomes import Tally
from cogrt.bench.schedule import arrivals

__all__ = ["Budget", "run_closed", "run_open"]


class Budget:
    """When a level stops sending: a deadline, or a number of predictions."""

    def __init__(
        self,
        duration: float | None,
        requests: int | None,
        at_deadline: Callable[[], None] | None = None,
    ) -> None:
        self.duration = duration
        self.requests = requests
        self.started = 0.0
        self._issued = 0
        self._at_deadline = at_deadline
        self._timer: asyncio.TimerHandle | None = None

    def begin(self) -> None:
        """Start the clock (on the loop); ``at_deadline`` runs when the duration is up."""
        self.started = time.perf_counter()
        if self.duration is not None and self._at_deadline is not None:
            self._timer = asyncio.get_running_loop().call_later(self.duration, self._at_deadline)

    def end(self) -> None:
        """The level is over: a deadline not reached yet (every lane failed early) never runs."""
        if self._timer is not None:
            self._timer.cancel()

    def take(self, now: float) -> bool:
        """True when one more prediction may start at ``now``."""
        if self.duration is not None and now - self.started >= self.duration:
            return False
        if self.requests is not None and self._issued >= self.requests:
            return False
        self._issued += 1
        return True


async def run_closed(requester: Requester, concurrency: int, budget: Budget, tally: Tally) -> None:
    counter = itertools.count()

    async def worker() -> None:
        while True:
            start = time.perf_counter()
            if not budget.take(start):
                return
            await requester.send(next(counter), start, tally)

    budget.begin()
    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def run_open(
    requester: Requester,
    rate: float,
    budget: Budget,
    tally: Tally,
    *,
    poisson: bool,
    seed: int | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> None:
    tasks: set[asyncio.Task[None]] = set()
    budget.begin()
    origin = budget.started
    for index, offset in enumerate(arrivals(rate, poisson=poisson, seed=seed)):
        intended = origin + offset
        delay = intended - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        if not budget.take(intended):
            break
        task = asyncio.get_running_loop().create_task(requester.send(index, intended, tally))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
