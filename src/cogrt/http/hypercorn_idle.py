"""hypercorn's keep-alive deadline as one timer per idle connection, not a task per request.

hypercorn's ``TCPServer`` starts an "idle task" each time a connection falls
idle and cancels it when a request begins: per request, two tasks created and
cancelled (the idle task and the inner task of its ``asyncio.wait_for``), each
cancellation awaited under a lock. On the echo model that was 5-8 % of the
server's CPU per answer (benchmarks/README, "hypercorn's idle task").

``IdleDeadline`` takes the idle task's place and keeps its two rules:

* a connection idle for ``keep_alive_timeout`` (which is also the wait for a
  request's headers) is closed;
* when the server terminates, every idle connection is closed at once.

It arms a loop timer while the connection is idle (``restart``) and disarms it
when a request begins (``stop``); the close runs as a task, in the
connection's task group as hypercorn's did, only once it is due. Termination
is watched once per server (its ``WorkerContext``), not once per connection.
``install`` puts it into hypercorn's asyncio server; hypercorn 0.17 and 0.18
build their ``TCPServer`` the same way, and a version that does not is left
as it is.
"""

from __future__ import annotations

import asyncio
import weakref
from types import ModuleType
from typing import Any

__all__ = ["IdleDeadline", "install"]

_IDLE: weakref.WeakKeyDictionary[Any, set[IdleDeadline]] = weakref.WeakKeyDictionary()
"""The idle connections of each server (by its ``WorkerContext``)."""
_WATCHERS: set[asyncio.Task[None]] = set()


class IdleDeadline:
    """Stands in for hypercorn's ``AsyncioSingleTask`` as a ``TCPServer``'s ``idle_task``."""

    def __init__(self, server: Any) -> None:
        self._server_ref = weakref.ref(server)  # no cycle: a closed connection is freed at once
        self._context = server.context
        self._timer: asyncio.TimerHandle | None = None
        self._task_group: Any = None
        self._closing: asyncio.Task[None] | None = None

    async def restart(self, task_group: Any, action: object) -> None:
        """The connection fell idle: arm the deadline (``action``, hypercorn's idle
        coroutine, is what the timer replaces)."""
        self._disarm()
        self._task_group = task_group
        server = self._server_ref()
        if server is None:
            return
        if self._context.terminated.is_set():
            self.expire()
            return
        _idle_connections(self._context).add(self)
        self._timer = server.loop.call_later(server.config.keep_alive_timeout, self.expire)

    async def stop(self) -> None:
        """A request began, or the connection is closing: no deadline."""
        self._disarm()

    def expire(self) -> None:
        """Close the idle connection (once), as hypercorn's idle task did when it was due."""
        self._disarm()
        server = self._server_ref()
        if self._closing is None and self._task_group is not None and server is not None:
            close = server._initiate_server_close()
            try:
                self._closing = self._task_group._task_group.create_task(close)
            except RuntimeError:  # the connection's task group has finished: it is closed
                close.close()

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        idle = _IDLE.get(self._context)
        if idle is not None:
            idle.discard(self)


def _idle_connections(context: Any) -> set[IdleDeadline]:
    """The server's idle connections, with the watcher that closes them when it terminates."""
    idle = _IDLE.get(context)
    if idle is None:
        idle = _IDLE[context] = set()
        watcher = asyncio.get_running_loop().create_task(_close_at_termination(context, idle))
        _WATCHERS.add(watcher)
        watcher.add_done_callback(_WATCHERS.discard)
    return idle


async def _close_at_termination(context: Any, idle: set[IdleDeadline]) -> None:
    await context.terminated.wait()
    for deadline in list(idle):
        deadline.expire()


def install(run_module: ModuleType) -> bool:
    """Make ``hypercorn.asyncio.run`` serve with ``IdleDeadline``; False if this hypercorn's
    ``TCPServer`` is not built the way it expects (it is then left unchanged)."""
    base = getattr(run_module, "TCPServer", None)
    if base is None or getattr(base, "_cogrt_idle_deadline", False):
        return base is not None
    if not all(hasattr(base, name) for name in ("_initiate_server_close", "_idle_timeout")):
        return False

    class TCPServer(base):  # type: ignore[misc, valid-type]
        """hypercorn's ``TCPServer`` with an ``IdleDeadline`` for its idle task."""

        _cogrt_idle_deadline = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.idle_task = IdleDeadline(self)

    TCPServer.__module__ = __name__
    run_module.TCPServer = TCPServer  # type: ignore[attr-defined]
    return True
