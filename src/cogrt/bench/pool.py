"""Keep-alive connections shared by the requests of one level, at most ``limit`` open."""

from __future__ import annotations

import asyncio
from collections import deque

from cogrt.bench.client import Connection, open_connection

__all__ = ["ConnectionPool"]


class ConnectionPool:
    """Idle connections are reused last-in first-out; past ``limit`` a request waits.

    The wait counts in an open-loop request's latency (measured from its
    intended start), as a real client's queue would.
    """

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host = host
        self.port = port
        self.limit = limit
        self.opened = 0  # connections opened over the pool's life (reconnects show here)
        self._idle: list[Connection] = []
        self._open = 0
        self._waiters: deque[asyncio.Future[Connection | None]] = deque()

    def idle(self) -> Connection | None:
        """An idle connection at once, or None (then ``acquire``): no coroutine on the hot path."""
        while self._idle:
            connection = self._idle.pop()
            if connection.reusable:
                return connection
            self._open -= 1
        return None

    async def acquire(self) -> Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection.reusable:
                return connection
            self._open -= 1
        if self._open >= self.limit:
            waiter: asyncio.Future[Connection | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            handed = await waiter
            if handed is not None:
                return handed
        self._open += 1
        self.opened += 1
        try:
            return await open_connection(self.host, self.port)
        except BaseException:
            self._open -= 1
            self._wake_opener()
            raise

    def release(self, connection: Connection) -> None:
        if not connection.reusable:
            connection.close()
            self._open -= 1
            self._wake_opener()
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append(connection)

    def _wake_opener(self) -> None:
        """A slot for a connection is free: the first waiter opens its own."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()
        self._open = 0
