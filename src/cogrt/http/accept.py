"""uvloop with servers that accept every waiting connection at once, as asyncio's own loop does.

libuv (since 1.45, in every supported uvloop) accepts one connection per
turn of the event loop. A busy server's turns are long: at 1,000 in-flight
predictions on hypercorn one turn runs a few hundred callbacks, so new
connections joined at ~40 per second while the ones already in served
request after request. Measured with wrk at 1,000 connections, most of them
waited 5-10 s in the kernel's accept queue for their first request, and
that wait was the p99 (``benchmarks/README.md``, "1,000 in-flight on
hypercorn"). asyncio's selector loop accepts up to ``backlog`` connections
each time the listening socket is readable; ``BatchAcceptLoop`` does the
same on uvloop for servers started on an existing socket (how cogrt starts
hypercorn and uvicorn), and leaves every other ``create_server`` call to
uvloop.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from typing import Any

import uvloop

__all__ = ["BatchAcceptLoop", "BatchAcceptServer"]

log = logging.getLogger("cogrt.server")

ProtocolFactory = Any
"""``() -> asyncio.BaseProtocol``, as ``loop.create_server`` takes it."""

_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
RESUME_AFTER = 1.0
"""Seconds without accepting after running out of descriptors or memory (asyncio's figure)."""


class BatchAcceptLoop(uvloop.Loop):
    """A uvloop loop whose ``create_server(sock=...)`` returns a ``BatchAcceptServer``."""

    # typeshed types create_server's result as the concrete asyncio.Server; both servers
    # here only promise AbstractServer, which is what hypercorn and uvicorn use.
    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: ProtocolFactory,
        host: Any = None,
        port: Any = None,
        *,
        sock: socket.socket | None = None,
        backlog: int = 100,
        ssl: Any = None,
        start_serving: bool = True,
        **options: Any,
    ) -> asyncio.AbstractServer:
        if sock is None or host is not None or port is not None or ssl is not None:
            return await super().create_server(
                protocol_factory,
                host,
                port,
                sock=sock,
                backlog=backlog,
                ssl=ssl,
                start_serving=start_serving,
                **options,
            )
        server = BatchAcceptServer(self, sock, protocol_factory, backlog)
        if start_serving:
            await server.start_serving()
        return server


class BatchAcceptServer(asyncio.AbstractServer):
    """Serves ``sock``: each time it is readable, accepts up to ``backlog`` connections.

    Each accepted socket goes to ``loop.connect_accepted_socket``, so its
    transport is uvloop's own. Closing stops accepting and closes ``sock``;
    connections already accepted stay with their protocols, as with
    asyncio's ``Server.close``.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        protocol_factory: ProtocolFactory,
        backlog: int,
    ) -> None:
        self._loop = loop
        self._sock: socket.socket | None = sock
        self._factory = protocol_factory
        self._batch = max(1, backlog)
        self._accepting = False
        self._connecting: set[asyncio.Task[None]] = set()
        self._closed = loop.create_future()
        sock.setblocking(False)
        sock.listen(backlog)

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def is_serving(self) -> bool:
        return self._accepting

    @property
    def sockets(self) -> tuple[socket.socket, ...]:
        return () if self._sock is None else (self._sock,)

    async def start_serving(self) -> None:
        self._resume()

    async def serve_forever(self) -> None:
        self._resume()
        await asyncio.shield(self._closed)

    def close(self) -> None:
        self._pause()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if not self._closed.done():
            self._closed.set_result(None)

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)

    def _resume(self) -> None:
        if not self._accepting and self._sock is not None:
            self._loop.add_reader(self._sock.fileno(), self._accept)
            self._accepting = True

    def _pause(self) -> None:
        if self._accepting and self._sock is not None:
            self._loop.remove_reader(self._sock.fileno())
        self._accepting = False

    def _accept(self) -> None:
        """Accept what is waiting, up to one batch (the rest at the loop's next turn)."""
        assert self._sock is not None
        for _ in range(self._batch):
            try:
                conn, _address = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue  # the client gave up while queued
            except OSError as exc:
                if exc.errno not in _OUT_OF_RESOURCES:
                    raise
                log.warning("not accepting connections for %g s: %s", RESUME_AFTER, exc)
                self._pause()
                self._loop.call_later(RESUME_AFTER, self._resume)
                return
            conn.setblocking(False)
            task = self._loop.create_task(self._connect(conn))
            self._connecting.add(task)
            task.add_done_callback(self._connecting.discard)

    async def _connect(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._factory, conn)
        except OSError:
            conn.close()  # reset before its transport existed: nothing to serve
