"""``IdleDeadline``: hypercorn's two idle rules kept, with a timer instead of a task per request."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from hypercorn.asyncio.worker_context import WorkerContext

from cogrt.http import hypercorn_idle
from cogrt.http.hypercorn_h11 import load_serve
from cogrt.http.hypercorn_idle import IdleDeadline


class Connection:
    """What ``IdleDeadline`` uses of hypercorn's ``TCPServer``, recording the close."""

    def __init__(self, context: WorkerContext, keep_alive_timeout: float) -> None:
        self.context = context
        self.config = SimpleNamespace(keep_alive_timeout=keep_alive_timeout)
        self.loop = asyncio.get_running_loop()
        self.closed = asyncio.Event()
        self.closes = 0
        self.idle_task = IdleDeadline(self)

    async def _initiate_server_close(self) -> None:
        self.closes += 1
        self.closed.set()


class Group:
    """hypercorn's ``TaskGroup`` as ``IdleDeadline`` reaches into it (``_task_group``)."""

    def __init__(self, group: asyncio.TaskGroup) -> None:
        self._task_group = group


async def test_a_connection_idle_past_the_deadline_is_closed_once() -> None:
    connection = Connection(WorkerContext(None), keep_alive_timeout=0.01)
    async with asyncio.TaskGroup() as group:
        await connection.idle_task.restart(Group(group), None)
        await asyncio.wait_for(connection.closed.wait(), 10)
        connection.idle_task.expire()  # the termination watcher may fire too: still one close
    assert connection.closes == 1


async def test_a_request_that_begins_disarms_the_deadline() -> None:
    connection = Connection(WorkerContext(None), keep_alive_timeout=0)
    async with asyncio.TaskGroup() as group:
        await connection.idle_task.restart(Group(group), None)
        await connection.idle_task.stop()  # before the loop could run the due timer
        for _ in range(5):
            await asyncio.sleep(0)
    assert connection.closes == 0


async def test_termination_closes_every_idle_connection_but_not_busy_ones() -> None:
    context = WorkerContext(None)
    idle = [Connection(context, keep_alive_timeout=3600) for _ in range(3)]
    busy = Connection(context, keep_alive_timeout=3600)
    async with asyncio.TaskGroup() as group:
        for connection in [*idle, busy]:
            await connection.idle_task.restart(Group(group), None)
        await busy.idle_task.stop()
        await context.terminated.set()
        await asyncio.wait_for(asyncio.gather(*(c.closed.wait() for c in idle)), 10)
        late = Connection(context, keep_alive_timeout=3600)
        await late.idle_task.restart(Group(group), None)  # idle after termination: closed now
        await asyncio.wait_for(late.closed.wait(), 10)
    assert [c.closes for c in idle] == [1, 1, 1] and busy.closes == 0


async def test_requests_on_a_connection_start_no_tasks() -> None:
    connection = Connection(WorkerContext(None), keep_alive_timeout=3600)
    async with asyncio.TaskGroup() as group:
        await connection.idle_task.restart(Group(group), None)  # the server's watcher starts
        before = len(asyncio.all_tasks())
        for _ in range(100):  # what each request does: busy, then idle again
            await connection.idle_task.stop()
            await connection.idle_task.restart(Group(group), None)
        assert len(asyncio.all_tasks()) == before
        await connection.idle_task.stop()
    await connection.context.terminated.set()  # ends the watcher


def test_hypercorn_serves_with_the_deadline_installed() -> None:
    load_serve()
    from hypercorn.asyncio import run

    server_class: Any = run.TCPServer
    assert server_class._cogrt_idle_deadline
    assert hypercorn_idle.install(run)  # installing again changes nothing
    assert run.TCPServer is server_class


async def test_a_closed_connection_is_freed_without_the_collector() -> None:
    """No reference cycle between a connection and its deadline (CPython frees it at once)."""
    import gc
    import weakref

    connection = Connection(WorkerContext(None), keep_alive_timeout=3600)
    async with asyncio.TaskGroup() as group:
        await connection.idle_task.restart(Group(group), None)
        await connection.idle_task.stop()
    gone = weakref.ref(connection)
    gc.disable()
    try:
        del connection
        assert gone() is None
    finally:
        gc.enable()


async def test_a_deadline_due_after_its_connection_ended_closes_nothing() -> None:
    connection = Connection(WorkerContext(None), keep_alive_timeout=3600)
    async with asyncio.TaskGroup() as group:
        await connection.idle_task.restart(Group(group), None)
    connection.idle_task.expire()  # e.g. the server terminating just then: no error, no close
    await asyncio.sleep(0)
    assert connection.closes == 0
