"""The closed loop of sync predictions over HTTP, driven by protocol callbacks.

Each of the N lanes is one client with one keep-alive connection: the callback
that completes a response records it and writes the next request at once,
as wrk does. Without a future, a task wake-up and a coroutine per request,
the client's CPU per request halves (measured: ~26 us against ~50 us of user
time on the 2-core machine), which is what lets a Python load generator keep
up with wrk (``benchmarks/bench_vs_wrk.py``). Timeouts come from one sweeper
task instead of a timer per request.
"""

from __future__ import annotations

import asyncio
import itertools
import time

from cogrt.bench.client import Connection, Response, open_connection
from cogrt.bench.drivers import Budget
from cogrt.bench.exchanges import record_answer
from cogrt.bench.outcomes import Tally

__all__ = ["run_lanes"]


class _Request:
    """One request of a lane: its callback records the answer and sends the lane's next."""

    __slots__ = ("connection", "lanes", "start")

    def __init__(self, lanes: _Lanes, connection: Connection, start: float) -> None:
        self.lanes = lanes
        self.connection = connection
        self.start = start

    def send(self) -> None:
        lanes = self.lanes
        data = lanes.requests[next(lanes.counter) % len(lanes.requests)]
        self.connection.send(data, self.done)

    def done(self, response: Response | None, error: BaseException | None) -> None:
        """Send the lane's next request first, then record this answer.

        Writing before the bookkeeping keeps the client's own time out of the
        gap between two requests: when the server has refused everyone else, that
        gap is what leaves its slot idle.
        """
        lanes, connection = self.lanes, self.connection
        now = time.perf_counter()
        latency_us = round((now - self.start) * 1e6)
        if not connection.reusable:
            lanes.connections.discard(connection)
            connection.close()
            task = asyncio.get_running_loop().create_task(lanes.lane())  # a new connection
            lanes.tasks.add(task)
            task.add_done_callback(lanes.tasks.discard)
        elif lanes.budget.take(now):
            self.start = now  # this object serves the lane's next request too
            self.send()
        else:
            lanes.lane_done()
        record_answer(lanes.tally, response, error, latency_us, lanes.timeout)


class _Lanes:
    def __init__(
        self,
        host: str,
        port: int,
        requests: list[bytes],
        budget: Budget,
        tally: Tally,
        timeout: float,
    ) -> None:
        self.host, self.port = host, port
        self.requests = requests
        self.budget = budget
        self.tally = tally
        self.timeout = timeout
        self.counter = itertools.count()
        self.connections: set[Connection] = set()
        self.active = 0
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.tasks: set[asyncio.Task[None]] = set()

    async def lane(self) -> None:
        """Open this lane's connection and send its first request; callbacks do the rest."""
        while True:
            start = time.perf_counter()
            if not self.budget.take(start):
                self.lane_done()
                return
            try:
                connection = await open_connection(self.host, self.port)
            except OSError as exc:
                self.tally.add("error", 0, f"cannot connect: {exc}")
                continue
            self.connections.add(connection)
            self._send(connection, start)
            return

    def _send(self, connection: Connection, start: float) -> None:
        _Request(self, connection, start).send()

    def lane_done(self) -> None:
        self.active -= 1
        if self.active == 0 and not self.finished.done():
            self.finished.set_result(None)

    async def sweep(self) -> None:
        """Expire requests older than the timeout, a few times per timeout."""
        while True:
            await asyncio.sleep(min(self.timeout / 4, 0.5))
            limit = time.perf_counter() - self.timeout
            for connection in list(self.connections):
                if connection.busy and connection.sent_at < limit:
                    connection.expire()


async def run_lanes(
    host: str,
    port: int,
    requests: list[bytes],
    concurrency: int,
    budget: Budget,
    tally: Tally,
    timeout: float,
) -> None:
    lanes = _Lanes(host, port, requests, budget, tally, timeout)
    lanes.active = concurrency
    budget.begin()
    sweeper = asyncio.get_running_loop().create_task(lanes.sweep())
    starters = [asyncio.get_running_loop().create_task(lanes.lane()) for _ in range(concurrency)]
    try:
        await lanes.finished
        await asyncio.gather(*starters)
    finally:
        sweeper.cancel()
        for connection in lanes.connections:
            connection.close()
