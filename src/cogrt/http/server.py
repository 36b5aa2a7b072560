"""``serve()``: the app under hypercorn (default) or uvicorn, on uvloop, with Cog's stop rules.

A graceful stop (spec §19) starts on ``POST /shutdown``, SIGINT, SIGTERM
(ignored with ``await_explicit_shutdown``, as Cog's ``cog serve`` relies on)
or when ``shutdown_trigger`` returns. Then new prediction requests get 503
``Server is shutting down`` (with ``Connection: close``) while the HTTP
requests in flight finish, within ``grace_period``: the server keeps its
connections meanwhile, so a client's next request on a keep-alive
connection is answered, not reset. Only then is the server told to stop: the
listening socket and idle connections close, and the app's lifespan gives
in-flight async predictions another ``grace_period`` before canceling them.
A second signal during the stop exits at once: a sync predictor stuck in C
code cannot be interrupted any other way.

The socket is bound here (or passed in) before the server starts, so port 0
works and the startup line names the real address.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from cogrt.http.access_log import AccessLog
from cogrt.http.app import DEFAULT_GRACE_PERIOD, create_app, request_shutdown
from cogrt.http.default_logging import default_logging
from cogrt.http.engines import BACKLOG, run_hypercorn, run_uvicorn
from cogrt.http.stop_rule import StopRule

__all__ = ["BACKLOG", "SWITCH_INTERVAL", "bind_socket", "serve", "serve_app"]

SWITCH_INTERVAL = 0.0005
"""GIL switch interval while serving, in seconds (CPython's default is 0.005).

A sync predictor burning CPU on the worker thread holds the GIL; every time
the event loop thread wakes it waits up to this long for it, several times
per request. At the default, a health check during a CPU-bound prediction
takes ~15 ms; at 0.5 ms it takes ~4 ms, for a few percent of the
predictor's own throughput.
"""

log = logging.getLogger("cogrt.server")
Http = Literal["hypercorn", "uvicorn"]
ShutdownTrigger = Callable[[], Awaitable[object]]


def serve(
    predictor: Any,
    *,
    host: str = "0.0.0.0",
    port: int = 5000,
    http: Http = "hypercorn",
    upload_url: str | None = None,
    await_explicit_shutdown: bool = False,
    shutdown_trigger: ShutdownTrigger | None = None,
    sock: socket.socket | None = None,
    grace_period: float = DEFAULT_GRACE_PERIOD,
    keep_output_files: bool | None = None,
    queue: int | None = None,
    queue_timeout: float | None = None,
    **runtime_kwargs: Any,
) -> None:
    """Serve ``predictor`` (a reference, object or ``Runtime``) until shut down; blocks.

    Returned ``Path`` outputs in the temp dir are deleted once sent, as Cog's
    documents promise; ``keep_output_files=True`` keeps them (default:
    ``COGRT_KEEP_OUTPUT_FILES``). ``queue``: up to this many requests wait, first come
    first served, for a slot instead of a 409, each for at most ``queue_timeout`` seconds
    (defaults: ``COGRT_QUEUE``, else no queue; ``COGRT_QUEUE_TIMEOUT``, else 30; see
    docs/operations.md). A ``Runtime`` passed in takes its own options.
    With no logging set up in the process, cogrt's info lines go to stderr
    (:mod:`cogrt.http.default_logging`). ``metrics=False`` (no ``GET /metrics``) and
    ``tracer_provider`` are ``create_app``'s.
    """
    default_logging()
    if upload_url is not None:
        runtime_kwargs["upload_url"] = upload_url
    if keep_output_files is not None:
        runtime_kwargs["keep_output_files"] = keep_output_files
    if queue is not None:
        runtime_kwargs["queue"] = queue
    if queue_timeout is not None:
        runtime_kwargs["queue_timeout"] = queue_timeout
    app = create_app(
        predictor, grace_period=grace_period, tune_gc_after_setup=True, **runtime_kwargs
    )
    listener = sock if sock is not None else bind_socket(host, port)
    sys.setswitchinterval(SWITCH_INTERVAL)
    _run(
        serve_app(
            app,
            listener,
            http=http,
            await_explicit_shutdown=await_explicit_shutdown,
            shutdown_trigger=shutdown_trigger,
        )
    )


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; ``port=0`` picks a free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


async def serve_app(
    app: Starlette,
    sock: socket.socket,
    *,
    http: Http = "hypercorn",
    await_explicit_shutdown: bool = False,
    shutdown_trigger: ShutdownTrigger | None = None,
) -> None:
    """Serve an app from ``create_app`` on ``sock`` inside the running loop."""
    if http not in ("hypercorn", "uvicorn"):
        raise ValueError(f"http must be 'hypercorn' or 'uvicorn', not {http!r}")
    stop: asyncio.Event = app.state.shutdown_requested
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    log.info("cogrt serving on http://%s:%d (%s, pid %d)", shown, port, http, os.getpid())
    forward: asyncio.Task[None] | None = None
    if shutdown_trigger is not None:
        forward = asyncio.get_running_loop().create_task(_forward(shutdown_trigger, app))
    served = _InFlight(AccessLog(app))
    drained = _Drained(stop, served, app.state.grace_period)
    try:
        with _signals(app, await_explicit_shutdown):
            if http == "uvicorn":
                await run_uvicorn(served, sock, drained)
            else:
                await run_hypercorn(served, sock, drained)
    finally:
        if forward is not None:
            forward.cancel()
        sock.close()
    log.info("cogrt stopped")


async def _forward(trigger: ShutdownTrigger, app: Starlette) -> None:
    await trigger()
    request_shutdown(app)


class _InFlight:
    """ASGI wrapper counting the HTTP requests in flight, so a graceful stop can wait for them.

    The servers stop by closing idle keep-alive connections at once; waiting
    here first keeps them open (and answered) while requests are running.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.count = 0
        self._idle: asyncio.Event | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.count += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.count -= 1
            if not self.count and self._idle is not None:
                self._idle.set()

    async def wait_idle(self) -> None:
        """Return once no HTTP request is in flight (at once if none is)."""
        if self.count:
            self._idle = asyncio.Event()
            await self._idle.wait()


class _Drained:
    """The servers' shutdown trigger: the stop was asked for and the requests in flight ended.

    Calling it waits for ``stop``, then up to ``grace`` seconds for the
    requests in flight, and returns the seconds of ``grace`` left, which is
    what the server may then still wait for its connections.
    """

    def __init__(self, stop: asyncio.Event, served: _InFlight, grace: float) -> None:
        self._stop = stop
        self._served = served
        self._grace = grace

    async def __call__(self) -> float:
        await self._stop.wait()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._grace
        if self._served.count:
            log.info(
                "stopping once %d HTTP request(s) in flight end (at most %g s)",
                self._served.count,
                self._grace,
            )
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._served.wait_idle(), self._grace)
        return max(0.0, deadline - loop.time())


@contextlib.contextmanager
def _signals(app: Starlette, await_explicit_shutdown: bool) -> Iterator[None]:
    """SIGINT (and SIGTERM unless told otherwise) start a graceful stop; a second exits
    (``StopRule``)."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    on_signal = StopRule(
        app.state.shutdown_requested,
        lambda: request_shutdown(app),
        log,
        ignore_sigterm=await_explicit_shutdown,
    )
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, on_signal, signum)
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # not the main thread, or a platform without signal handlers
        installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is installed (it is, except on Windows), accepting in batches
    (:mod:`cogrt.http.accept`)."""
    try:
        import uvloop

        from cogrt.http.accept import BatchAcceptLoop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main, loop_factory=BatchAcceptLoop)
