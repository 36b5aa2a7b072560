"""A real HTTP/1.1 webhook receiver on a ``127.0.0.1:0`` socket, in the test's loop.

It records every request (headers and body) and can be told to answer some
requests with an error status, to hold some until the test releases them, or
never to answer at all, which the tests use to stand in for flaky, slow and
dead receivers. Holding is the test's decision, not a timer: a test waits for
``held`` to be reached, changes what it likes, then calls ``release()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from .waiting import until_signalled

TERMINAL = frozenset({"succeeded", "failed", "canceled"})


@dataclass
class Hook:
    """One received request and the status it was answered with (0: never answered)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0

    @property
    def payload(self) -> Any:
        return msgspec.json.decode(self.body)

    @property
    def terminal(self) -> bool:
        return self.payload.get("status") in TERMINAL


@dataclass
class Receiver:
    statuses: list[int] = field(default_factory=list)
    """Statuses for the next requests, in order; 200 once they are used up."""
    hold: set[int] = field(default_factory=set)
    """Arrival indexes (0 is the first request) to hold, unrecorded and unanswered, until
    ``release()``: a slow network or server whose pace the test decides."""
    hang: bool = False
    """Never answer: requests are recorded, then held until the receiver closes."""
    hooks: list[Hook] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._changed = asyncio.Event()
        self._release = asyncio.Event()
        self._unhold = asyncio.Event()
        self._requests = 0
        self.held = 0
        """Requests read and being held right now."""
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[Any]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def __aenter__(self) -> Receiver:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._release.set()
        self._unhold.set()
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._handlers:
            await asyncio.wait_for(asyncio.gather(*self._handlers, return_exceptions=True), 5)
        await asyncio.wait_for(self._server.wait_closed(), 5)

    def terminal(self) -> list[Hook]:
        return [hook for hook in self.hooks if hook.terminal]

    async def wait_for(self, condition: Callable[[list[Hook]], bool], timeout: float = 10) -> None:
        """Wait until ``condition(hooks)`` holds; fail after ``timeout`` seconds."""
        await until_signalled(self._changed, lambda: condition(self.hooks), timeout)

    async def wait_held(self, count: int = 1, timeout: float = 10) -> None:
        """Wait until ``count`` requests are being held; fail after ``timeout`` seconds."""
        await until_signalled(self._changed, lambda: self.held >= count, timeout)

    def release(self) -> None:
        """Let every held request through (recorded, then answered); hold no more."""
        self._unhold.set()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        try:
            while await self._serve_one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()
            self._handlers.discard(task)

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        request_line = await reader.readline()
        if not request_line:
            return False
        method, path, _ = request_line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        index, self._requests = self._requests, self._requests + 1
        if index in self.hold and not self._unhold.is_set():
            self.held += 1
            self._changed.set()
            await self._unhold.wait()
            self.held -= 1
        status = 0 if self.hang else self.statuses.pop(0) if self.statuses else 200
        hook = Hook(method, path, headers, body, status)
        self.hooks.append(hook)
        self._changed.set()
        if self.hang:
            await self._release.wait()
            return False
        writer.write(b"HTTP/1.1 %d X\r\ncontent-length: 0\r\n\r\n" % hook.status)
        await writer.drain()
        return True
