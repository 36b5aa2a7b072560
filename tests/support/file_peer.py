"""A real loopback HTTP peer for file tests: serves inputs, records uploads.

One ASGI app on uvicorn, bound to a ``127.0.0.1:0`` socket the test owns and
run on the test's own loop, so the runtime talks to it over real TCP. Every
wait on it has a deadline.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from .waiting import until_signalled

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


@dataclass
class Upload:
    """One PUT as the peer received it."""

    path: str
    query: str
    content_type: str | None
    prediction_id: str | None
    content_length: str | None
    body: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()


@dataclass
class Peer:
    """Behaviour is set by the test through these fields, before or during a run."""

    base: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    """GET /files/<name> serves these."""
    uploads: list[Upload] = field(default_factory=list)
    gets: list[str] = field(default_factory=list)
    user_agents: list[str | None] = field(default_factory=list)
    """The ``User-Agent`` of every GET, in arrival order."""
    fail: dict[str, int] = field(default_factory=dict)
    """PUT of a file name listed here is answered with that status."""
    hold: dict[str, asyncio.Event] = field(default_factory=dict)
    """PUT of a file name listed here is answered only once its event is set."""
    location: str = "absolute"
    """``absolute`` (with a query to strip), ``relative``, or ``none``."""
    attempts: dict[str, int] = field(default_factory=dict)
    trickling: asyncio.Event = field(default_factory=asyncio.Event)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds, re-checking whenever a request arrives."""
        await until_signalled(self._changed, predicate, timeout)

    def _touch(self) -> None:
        self._changed.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if scope["method"] == "GET":
            headers = dict(scope["headers"])
            agent = headers.get(b"user-agent")
            self.user_agents.append(None if agent is None else agent.decode())
        if scope["method"] == "PUT":
            await self._put(scope, receive, send)
        elif path.startswith("/files/"):
            self.gets.append(path)
            self._touch()
            body = self.files.get(path.removeprefix("/files/"))
            await _reply(send, 404 if body is None else 200, body or b"not found")
        elif path.startswith("/hops/"):
            self.gets.append(path)
            left = int(path.rsplit("/", 1)[1])
            if left == 0:
                await _reply(send, 200, b"arrived")
            else:
                await _reply(send, 302, b"", {"location": f"/hops/{left - 1}"})
        elif path.startswith("/trickle/"):
            self.gets.append(path)
            await self._trickle(receive, send)
        else:
            await _reply(send, 404, b"not found")

    async def _put(self, scope: Scope, receive: Receive, send: Send) -> None:
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        path: str = scope["path"]
        name = path.rsplit("/", 1)[1]
        self.attempts[name] = self.attempts.get(name, 0) + 1
        if path.startswith("/redirect/"):
            target = "/upload/" + path.removeprefix("/redirect/")
            await _reply(send, 307, b"", {"location": target})
            return
        self.uploads.append(
            Upload(
                path=path,
                query=scope["query_string"].decode(),
                content_type=headers.get("content-type"),
                prediction_id=headers.get("x-prediction-id"),
                content_length=headers.get("content-length"),
                body=b"".join(chunks),
            )
        )
        self._touch()
        if name in self.hold:
            await asyncio.wait_for(self.hold[name].wait(), 10)
        if name in self.fail:
            await _reply(send, self.fail[name], b"refused")
            return
        extra: dict[str, str] = {}
        if self.location == "absolute":
            extra["location"] = f"{self.base}/stored{path}?signature=secret"
        elif self.location == "relative":
            extra["location"] = f"../stored/{name}?signature=secret"
        await _reply(send, 200, b"", extra)

    async def _trickle(self, receive: Receive, send: Send) -> None:
        """A body that never ends: 1 KiB every 20 ms until the client leaves (or 30 s)."""
        await send({"type": "http.response.start", "status": 200, "headers": []})
        left = asyncio.ensure_future(receive())
        try:
            for _ in range(1500):
                await send({"type": "http.response.body", "body": b"t" * 1024, "more_body": True})
                self.trickling.set()
                done, _ = await asyncio.wait([left], timeout=0.02)
                if done:
                    break
        finally:
            left.cancel()
        await send({"type": "http.response.body", "body": b""})


async def _reply(
    send: Send, status: int, body: bytes, headers: dict[str, str] | None = None
) -> None:
    raw = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


@asynccontextmanager
async def serving() -> AsyncIterator[Peer]:
    """Run a ``Peer`` on a bound 127.0.0.1:0 socket in the current loop."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # connections queue from here on; no readiness wait needed
    peer = Peer(base=f"http://127.0.0.1:{sock.getsockname()[1]}")
    config = uvicorn.Config(
        peer, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        yield peer
    finally:
        for event in peer.hold.values():
            event.set()
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


@asynccontextmanager
async def refusing() -> AsyncIterator[str]:
    """A base URL whose port is bound but not listening: connections are refused.

    The socket stays bound (and ours) for the whole test, so no other
    process can take the port and answer.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
