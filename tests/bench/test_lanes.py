"""The callback-driven closed loop: answers recorded, connections replaced, timeouts swept."""

from __future__ import annotations

import asyncio

from cogrt.bench.client import build_request
from cogrt.bench.drivers import Budget
from cogrt.bench.lanes import run_lanes
from cogrt.bench.outcomes import Tally

REQUEST = build_request("POST", "/predictions", "x", b'{"input":{}}')
OK = b'HTTP/1.1 200 OK\r\nContent-Length: 22\r\n\r\n{"status":"succeeded"}'
BUSY = b"HTTP/1.1 409 Conflict\r\nContent-Length: 2\r\n\r\n{}"
FAILED = b'HTTP/1.1 200 OK\r\nContent-Length: 34\r\n\r\n{"status":"failed","error":"boom"}'


async def test_each_answer_is_recorded_and_the_budget_is_exact(serve) -> None:
    port = await serve([[OK], [BUSY], [FAILED], [OK], [OK], [BUSY]])
    tally = Tally()
    await run_lanes("127.0.0.1", port, [REQUEST], 1, Budget(None, 6), tally, timeout=30)
    assert tally.counts["ok"] == 3 and tally.counts["409"] == 2 and tally.counts["failed"] == 1
    assert tally.first_error == "HTTP 409: {}"  # the first refusal, kept for the report
    assert tally.latency.count == 3 and tally.answered.count == 6


async def test_a_closed_connection_is_replaced(serve) -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 22\r\n\r\n"
    port = await serve([[closing + b'{"status":"succeeded"}', b"<close>"]])
    tally = Tally()
    await run_lanes("127.0.0.1", port, [REQUEST], 2, Budget(None, 5), tally, timeout=30)
    assert tally.counts["ok"] == 5  # five connections, one answer each


async def test_requests_that_get_no_answer_time_out(serve) -> None:
    port = await serve([[]])  # reads a request and never answers
    tally = Tally()
    await run_lanes("127.0.0.1", port, [REQUEST], 1, Budget(None, 2), tally, timeout=0.2)
    assert tally.counts["timeout"] == 2
    assert tally.first_error == "no answer within 0.2 s"


async def test_a_timed_budget_closes_the_tally_s_window_at_its_deadline() -> None:
    tally = Tally()
    closed = asyncio.Event()

    def at_deadline() -> None:
        tally.close_window()
        closed.set()

    budget = Budget(0.05, None, at_deadline=at_deadline)
    budget.begin()
    assert tally.in_window is None
    await asyncio.wait_for(closed.wait(), 30)
    assert tally.in_window == tally.counts


async def test_a_level_that_ends_before_its_deadline_leaves_the_window_open() -> None:
    """Every lane failed early: the rates fall back to the wall time, not the full window."""
    tally = Tally()
    budget = Budget(0.01, None, at_deadline=tally.close_window)
    budget.begin()
    budget.end()
    later = asyncio.Event()
    asyncio.get_running_loop().call_later(0.05, later.set)  # timers run in deadline order
    await asyncio.wait_for(later.wait(), 30)
    assert tally.in_window is None
