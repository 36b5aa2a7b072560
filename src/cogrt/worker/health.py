"""``--port``: ``GET /health-check`` for Kubernetes probes, with the body ``serve`` gives,
and ``GET /metrics`` for Prometheus (``cogrt.telemetry``) unless metrics are off.

A worker has no HTTP server, and may not import the HTTP shell (a sibling
layer), so this is a minimal asyncio handler: one request per connection,
headers bounded in size and time, ``Connection: close``. The body is
``Runtime.health()`` (``runner/health.py``), user healthcheck included.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

from cogrt.telemetry.exposition import CONTENT_TYPE

if TYPE_CHECKING:
    from cogrt.telemetry.exposition import MetricsPage

__all__ = ["HealthServer"]

_HEADER_LIMIT = 16 * 1024
_HEADER_TIMEOUT = 5.0


class HealthServer:
    """Serves ``report()`` as JSON on ``GET /health-check``, ``metrics`` on ``GET /metrics``;
    anything else is 404."""

    def __init__(
        self, report: Callable[[], Awaitable[dict[str, Any]]], metrics: MetricsPage | None = None
    ) -> None:
        self._report = report
        self._metrics = metrics
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; returns the bound port (``0`` picks a free one)."""
        self._server = await asyncio.start_server(self._handle, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _HEADER_TIMEOUT)
            if len(head) > _HEADER_LIMIT:
                raise ValueError("headers too large")
            method, _, rest = head.partition(b" ")
            path = rest.partition(b" ")[0].partition(b"?")[0]
            content_type = b"application/json"
            if method in (b"GET", b"HEAD") and path == b"/health-check":
                body = msgspec.json.encode(await self._report())
                status = b"200 OK"
            elif method in (b"GET", b"HEAD") and path == b"/metrics" and self._metrics:
                body, status = await self._metrics.render(), b"200 OK"
                content_type = CONTENT_TYPE.encode()
            else:
                body, status = b'{"detail":"Not Found"}', b"404 Not Found"
            writer.write(
                b"HTTP/1.1 " + status + b"\r\ncontent-type: " + content_type + b"\r\n"
                b"content-length: "
                + str(len(body)).encode()
                + b"\r\nconnection: close\r\n\r\n"
                + (b"" if method == b"HEAD" else body)
            )
            await writer.drain()
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except (ValueError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
