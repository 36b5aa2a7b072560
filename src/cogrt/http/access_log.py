"""Access lines: one per HTTP response, cheap enough for thousands per second.

hypercorn's and uvicorn's access loggers build a ``LogRecord`` per request
(hypercorn also copies ``os.environ`` into its atoms); at a few thousand
requests per second that was a tenth of the server's CPU. ``AccessLog``
wraps the app instead and writes one preformatted line per response:
straight to a stream when the CLI configured one (JSON lines or console
text, the same shapes as the CLI's other log lines), else through the
``cogrt.access`` logger so an embedding app's logging config still applies.
"""

from __future__ import annotations

import logging
import time
from typing import TextIO

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cogrt.clock import utc_now

__all__ = ["AccessLog", "configure"]

_logger = logging.getLogger("cogrt.access")
_encode = msgspec.json.Encoder().encode


class _Sink:
    """Where lines go: a stream set by ``configure``, or the logger."""

    def __init__(self) -> None:
        self.stream: TextIO | None = None
        self.json = True
        self.enabled = True

    def active(self) -> bool:
        if self.stream is not None:
            return self.enabled
        return _logger.isEnabledFor(logging.INFO)

    def write(self, message: str) -> None:
        stream = self.stream
        if stream is None:
            _logger.info("%s", message)
            return
        if self.json:
            entry = {"time": utc_now(), "level": "info", "logger": _logger.name, "message": message}
            line = _encode(entry).decode() + "\n"
        else:
            now = time.time()
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(now))
            line = f"{stamp},{int(now % 1 * 1000):03d} INFO    {_logger.name}: {message}\n"
        try:
            stream.write(line)
        except (OSError, ValueError):  # a closed or broken stderr must not fail requests
            pass


_sink = _Sink()


def configure(stream: TextIO, *, json: bool, enabled: bool) -> None:
    """Write access lines to ``stream`` directly (the CLI's choice of format and level)."""
    _sink.stream = stream
    _sink.json = json
    _sink.enabled = enabled


class AccessLog:
    """ASGI middleware: ``client - "METHOD path HTTP/v" status duration`` per response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _sink.active():
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            _sink.write(_line(scope, status, time.perf_counter() - started))


def _line(scope: Scope, status: int, seconds: float) -> str:
    client = scope.get("client")
    peer = f"{client[0]}:{client[1]}" if client else "-"
    path = scope.get("path", "")
    query = scope.get("query_string", b"")
    if query:
        path = f"{path}?{query.decode('latin-1')}"
    version = scope.get("http_version", "1.1")
    # status 0: the client left (or the app failed) before a response started
    return f'{peer} - "{scope["method"]} {path} HTTP/{version}" {status} {seconds * 1000:.1f}ms'
