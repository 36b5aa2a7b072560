"""SSE test helpers: a strict frame parser and a raw ASGI call that sees each ``send``.

httpx's ASGI transport hands back a response only once the app has returned,
which is enough for whole streams but hides timing, lets no test leave early
and cannot be slow on purpose. ``AsgiCall`` drives the app directly for those.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
from starlette.applications import Starlette

SSE = {"accept": "text/event-stream"}


def parse(body: bytes) -> list[tuple[str, Any]]:
    """``[(event, data), ...]``; keep-alive comments come out as ``(":", text)``.

    Fails on anything that is not exactly ``event:`` + ``data:`` lines or one
    comment line per frame, and on a body that does not end a frame.
    """
    text = body.decode()
    assert text == "" or text.endswith("\n\n"), f"stream ends mid-frame: {text[-80:]!r}"
    events: list[tuple[str, Any]] = []
    for frame in text.split("\n\n")[:-1]:
        lines = frame.split("\n")
        if len(lines) == 1 and lines[0].startswith(":"):
            events.append((":", lines[0][1:]))
            continue
        assert len(lines) == 2, f"unexpected frame {frame!r}"
        name, data = lines
        assert name.startswith("event: ") and data.startswith("data: "), frame
        events.append((name[len("event: ") :], msgspec.json.decode(data[len("data: ") :])))
    return events


def names(events: list[tuple[str, Any]]) -> list[str]:
    return [name for name, _ in events]


class AsgiCall:
    """One request sent straight into the app; every ``send`` is kept with its time.

    ``hold()`` makes ``send`` block (a client that stops reading) until
    ``resume()``; ``leave()`` makes ``receive`` report ``http.disconnect``.
    """

    def __init__(
        self,
        app: Starlette,
        method: str,
        path: str,
        body: bytes = b"{}",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.started = time.perf_counter()
        self.sent: list[tuple[float, dict[str, Any]]] = []
        self._body = [{"type": "http.request", "body": body}]
        self._gone = asyncio.Event()
        self._flowing = asyncio.Event()
        self._flowing.set()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"content-type", b"application/json"),
                *((k.encode(), v.encode()) for k, v in (headers or {}).items()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("cogrt", 80),
        }
        self.task = asyncio.ensure_future(app(scope, self._receive, self._send))

    async def _receive(self) -> dict[str, Any]:
        if self._body:
            return self._body.pop()
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        await self._flowing.wait()
        self.sent.append((time.perf_counter(), message))

    def hold(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def leave(self) -> None:
        self._gone.set()

    @property
    def status(self) -> int | None:
        starts = [m for _, m in self.sent if m["type"] == "http.response.start"]
        return starts[0]["status"] if starts else None

    @property
    def body(self) -> bytes:
        return b"".join(
            m.get("body", b"") for _, m in self.sent if m["type"] != "http.response.start"
        )

    @property
    def closed(self) -> bool:
        """True once the final body message (``more_body`` false) was sent."""
        return any(
            m["type"] == "http.response.body" and not m.get("more_body", False)
            for _, m in self.sent
        )

    def first_time(self, needle: bytes) -> float | None:
        """Seconds from the request to the ``send`` whose body completed ``needle``."""
        seen = b""
        for at, message in self.sent:
            seen += message.get("body", b"")
            if needle in seen:
                return at - self.started
        return None

    async def finish(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(asyncio.shield(self.task), timeout)
