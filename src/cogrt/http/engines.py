"""hypercorn and uvicorn, each configured to cogrt's rules: one socket, no access log, a
header deadline, and a stop that waits until ``drained`` says the requests in flight ended.

:mod:`cogrt.http.server` decides when to stop; this module only drives the two servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import cast

from starlette.types import ASGIApp

__all__ = ["BACKLOG", "HEADER_TIMEOUT", "Drained", "run_hypercorn", "run_uvicorn"]

BACKLOG = 2048
"""Listen backlog: bursts of clients must queue, not be refused by the kernel."""
HEADER_TIMEOUT = 5
"""Seconds a connection may take to send a request's headers, or stay idle between requests.

hypercorn closes such a connection after its ``keep_alive_timeout``, which
covers both. uvicorn's ``timeout_keep_alive`` starts only after a response
and stops at the first byte received, so a client that connects and sends
nothing, or half a request line, held a connection (and a descriptor) for
ever; ``_header_deadline_protocol`` adds the missing deadline.
"""

Drained = Callable[[], Awaitable[float]]
"""Waits for the stop and the requests in flight; returns the seconds of grace left."""


async def run_hypercorn(app: ASGIApp, sock: socket.socket, drained: Drained) -> None:
    from cogrt.http.hypercorn_h11 import load_serve

    hypercorn_serve = load_serve()  # HTTP/2 and WebSocket support load if a client asks
    from hypercorn.typing import ASGIFramework

    from cogrt.http.hypercorn_headers import CachedHeadersConfig

    config = CachedHeadersConfig()
    # hypercorn closes the socket it serves from; give it its own descriptor.
    config.bind = [f"fd://{os.dup(sock.fileno())}"]
    config.backlog = BACKLOG
    config.keep_alive_timeout = HEADER_TIMEOUT  # also hypercorn's wait for a request's headers
    config.accesslog = None  # AccessLog writes access lines, at a fraction of the cost
    config.errorlog = logging.getLogger("cogrt.server.hypercorn")

    async def trigger() -> None:
        config.graceful_timeout = await drained()  # read by hypercorn once triggered

    # Starlette's ASGI types are looser than hypercorn's TypedDicts; the app is ASGI 3.
    framework = cast("ASGIFramework", app)
    await hypercorn_serve(framework, config, shutdown_trigger=trigger, mode="asgi")


async def run_uvicorn(app: ASGIApp, sock: socket.socket, drained: Drained) -> None:
    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield  # serve_app owns the signals (await_explicit_shutdown needs that)

    config = uvicorn.Config(
        app,
        http=_header_deadline_protocol(),
        ws="none",  # Cog's API has no websockets; "auto" imports a websockets stack at start
        lifespan="on",
        log_config=None,
        access_log=False,  # AccessLog writes access lines, at a fraction of the cost
        backlog=BACKLOG,
        timeout_keep_alive=HEADER_TIMEOUT,
    )
    server = Server(config)

    async def watch() -> None:
        config.timeout_graceful_shutdown = math.ceil(await drained())  # read by shutdown()
        server.should_exit = True

    watcher = asyncio.get_running_loop().create_task(watch())
    try:
        await server.serve(sockets=[sock])
    finally:
        watcher.cancel()


def _header_deadline_protocol() -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, closing a connection whose headers are late.

    The deadline runs from the moment the connection opens, and again from
    the end of each response, until the next request's headers are complete;
    no request is in progress meanwhile, so closing interrupts nothing. The
    body is not covered, as with hypercorn.
    """
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HeaderDeadline(HttpToolsProtocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self._await_headers()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_header_timer()
            super().connection_lost(exc)

        def on_headers_complete(self) -> None:
            self._stop_header_timer()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            pipelined = bool(self.pipeline)  # if so, super() starts a request already read
            super().on_response_complete()
            if not pipelined and not self.transport.is_closing():
                self._await_headers()

        def _await_headers(self) -> None:
            self._stop_header_timer()
            self._header_timer = self.loop.call_later(HEADER_TIMEOUT, self._headers_late)

        def _stop_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_late(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadline
