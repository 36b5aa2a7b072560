"""``python -m cogrt [serve]``: Cog's HTTP server for the model in the working directory.

Serving normally runs in a process forked by :mod:`cogrt.supervisor`
(``python -m cogrt`` starts there); ``run`` then takes its socket, stop
requests and crash journal from the supervisor (:mod:`cogrt.supervisor.link`).
``python -m cog.server.http`` lands here too, with the same flags and no ``REF``.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import faulthandler
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from cogrt.cli.help import env_flag
from cogrt.cli.project import Project, add_mode_argument, add_ref_argument, resolve_project
from cogrt.errors import ConfigError

if TYPE_CHECKING:
    import socket

    from cogrt.runner.runtime import Runtime
    from cogrt.supervisor import Inheritance

__all__ = ["add_arguments", "run"]

_FALSE = frozenset({"false", "0", "no", "off", ""})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_ref_argument(parser)
    add_mode_argument(parser, "serve")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on [default: 0.0.0.0]")
    parser.add_argument(
        "-p",  # as cog serve -p
        "--port",
        type=int,
        default=None,
        help="port to listen on [env: PORT; default: 5000]",
    )
    parser.add_argument(
        "--upload-url",
        default=None,
        metavar="URL",
        help="PUT file outputs under this URL and return their URLs, instead of data URIs",
    )
    parser.add_argument(
        "--await-explicit-shutdown",
        nargs="?",
        const="true",
        default="false",
        metavar="VALUE",
        help="ignore SIGTERM: stop only on POST /shutdown or SIGINT (as cog serve)",
    )
    parser.add_argument(
        "--queue",
        type=_count,
        default=None,
        metavar="N",
        help="let up to N requests wait, first come first served, for a busy slot instead of"
        " a 409 [env: COGRT_QUEUE; default: 0, no queue]",
    )
    parser.add_argument(
        "--queue-timeout",
        type=_seconds,
        default=None,
        metavar="S",
        help="seconds a queued request waits for a slot, then 409 [env: COGRT_QUEUE_TIMEOUT;"
        " default: 30]",
    )
    parser.add_argument("--threads", type=int, default=None, help="accepted and ignored, as in Cog")
    parser.add_argument(
        "--http",
        choices=("hypercorn", "uvicorn"),
        default="hypercorn",
        help="HTTP server; uvicorn needs the cogrt[uvicorn] extra [default: hypercorn]",
    )
    parser.add_argument(
        "--no-supervise",
        action="store_true",
        help="run the server as the only process: a crash ends it (for systemd or Kubernetes"
        " to restart) instead of a supervisor restarting it on the same socket"
        " [env: COGRT_SUPERVISE=0]",
    )
    parser.add_argument(
        "--no-metrics",
        action="store_true",
        help="do not serve GET /metrics (Prometheus) [env: COGRT_METRICS=0]",
    )
    parser.add_argument(
        "--exit-on-setup-failure",
        action="store_true",
        default=env_flag("COGRT_EXIT_ON_SETUP_FAILURE"),
        help="exit with status 1 when setup() fails, instead of serving SETUP_FAILED"
        " health checks [env: COGRT_EXIT_ON_SETUP_FAILURE=1]",
    )


def run(ns: argparse.Namespace) -> int:
    project = resolve_project(ns.ref, ns.x_mode)
    from cogrt.http.stop_rule import die_by, first_stop_signal
    from cogrt.runner.runtime import Runtime
    from cogrt.supervisor import inherited

    if sys.__stderr__ is not None:  # a crash in C code prints the Python stacks
        faulthandler.enable(sys.__stderr__, all_threads=True)
    port = ns.port
    if port is None:
        raw = os.environ.get("PORT", "5000")
        if not raw.isdigit():
            raise ConfigError(f"PORT={raw!r} is not a port number")
        port = int(raw)
    explicit_shutdown = ns.await_explicit_shutdown.strip().lower() not in _FALSE
    inheritance = inherited()
    try:
        if inheritance is not None:
            runtime = _serve_supervised(project, ns, inheritance, port, explicit_shutdown)
        else:  # --no-supervise, COGRT_SUPERVISE=0, or a platform without fork()
            from cogrt.http.server import bind_socket

            runtime = Runtime(
                project.predictor,
                upload_url=ns.upload_url,
                **_queue_kwargs(ns),
                **project.runtime_kwargs(),
            )
            _serve(runtime, ns, bind_socket(ns.host, port), explicit_shutdown, None)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {ns.host} is in use: stop the other server, or pass --port"
                " (or set PORT) to use another one"
            ) from exc
        raise
    stopped_by = first_stop_signal()
    if runtime.status == "STARTING" and stopped_by is not None:
        die_by(stopped_by)  # stopped during setup: as the signal's default action would
    return 1 if runtime.status == "SETUP_FAILED" and ns.exit_on_setup_failure else 0


def _serve(
    runtime: Runtime,
    ns: argparse.Namespace,
    sock: socket.socket,
    explicit_shutdown: bool,
    trigger: Callable[[], Awaitable[object]] | None,
    on_shutdown: Callable[[], None] | None = None,
) -> None:
    from cogrt.http.server import serve

    if ns.exit_on_setup_failure:
        trigger = _until_setup_fails(runtime, trigger)
    serve(
        runtime,
        sock=sock,
        http=ns.http,
        await_explicit_shutdown=explicit_shutdown,
        shutdown_trigger=trigger,
        on_shutdown=on_shutdown,  # reaches create_app through serve()'s keyword arguments
        metrics=False if ns.no_metrics else None,  # None: COGRT_METRICS decides
    )


def _serve_supervised(
    project: Project,
    ns: argparse.Namespace,
    inheritance: Inheritance,
    port: int,
    explicit_shutdown: bool,
) -> Runtime:
    """Serve in a runtime process the supervisor forked: its socket, stop requests, journal."""
    from cogrt.http.server import bind_socket
    from cogrt.runner.runtime import Runtime
    from cogrt.supervisor.link import SupervisorLink

    link = SupervisorLink(inheritance)
    if explicit_shutdown:
        link.ignore_sigterm()
    runtime = Runtime(
        project.predictor,
        upload_url=ns.upload_url,
        journal=link.journal(),
        **_queue_kwargs(ns),
        **project.runtime_kwargs(),
    )
    sock = link.listener(lambda: bind_socket(ns.host, port))
    _serve(runtime, ns, sock, explicit_shutdown, lambda: link.watch(runtime), link.stopping)
    return runtime


def _count(raw: str) -> int:
    if not raw.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{raw!r} is not a count (0 or more)")
    return int(raw)


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{raw!r} is not a positive number of seconds")
    return value


def _queue_kwargs(ns: argparse.Namespace) -> dict[str, Any]:
    """``--queue``/``--queue-timeout`` for ``Runtime``; unset ones fall back to the environment."""
    return {"queue": ns.queue, "queue_timeout": ns.queue_timeout}


def _until_setup_fails(
    runtime: Runtime, other: Callable[[], Awaitable[object]] | None
) -> Callable[[], Awaitable[object]]:
    """A shutdown trigger that also fires when setup fails (``--exit-on-setup-failure``)."""

    async def failed() -> None:
        if await runtime.wait_setup() == "SETUP_FAILED":
            return
        await asyncio.Event().wait()  # set up: only ``other`` (or a signal) stops the server

    async def trigger() -> None:
        waits: list[asyncio.Future[object]] = [asyncio.ensure_future(failed())]
        if other is not None:
            waits.append(asyncio.ensure_future(other()))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    return trigger
