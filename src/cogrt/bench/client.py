"""A lean HTTP/1.1 keep-alive client on an asyncio protocol, for load generation.

Why not httpx: it spends about 2 ms of client CPU per request, so a Python load
generator built on it measures itself. Here a request is one prebuilt byte
string written to a socket and a response is parsed from the bytes the
protocol receives, with no task, stream or header object per request: the
per-request client cost is a few tens of microseconds on uvloop.

It speaks exactly what Cog's API needs: one request in flight per connection,
``Content-Length``, ``chunked`` and close-delimited bodies, and a body callback
for streaming (SSE) responses. It never imports the server (``cogrt.http``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import cast

from cogrt.errors import HttpClientError

__all__ = ["Connection", "Response", "build_request", "open_connection"]

_HEAD_END = b"\r\n\r\n"
_MAX_HEAD = 64 * 1024


class Response:
    """A status, the head as received (``header()`` reads one) and the collected body.

    A plain slotted class: a frozen dataclass costs a microsecond more to build,
    once per response.
    """

    __slots__ = ("body", "head", "status")

    def __init__(self, status: int, head: bytes, body: bytes) -> None:
        self.status = status
        self.head = head
        self.body = body

    def header(self, name: str) -> bytes | None:
        """A header's value (lower-cased), or None."""
        return _header(self.head.lower(), name.lower().encode("latin-1"))


BodyCallback = Callable[[bytes], None]
DoneCallback = Callable[["Response | None", "BaseException | None"], None]


def _header(lower_head: bytes, name: bytes) -> bytes | None:
    """The value of header ``name`` in a lower-cased head (the first one), or None."""
    at = lower_head.find(b"\r\n" + name + b":")
    if at < 0:
        return None
    start = at + len(name) + 3
    end = lower_head.find(b"\r\n", start)
    return lower_head[start : end if end >= 0 else len(lower_head)].strip()


def build_request(
    method: str, path: str, host: str, body: bytes | None, headers: dict[str, str] | None = None
) -> bytes:
    """One complete request, built once and written as is for every send."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body is not None:
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


class Connection(asyncio.Protocol):
    """One keep-alive connection; ``request`` sends and resolves with the response."""

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._done: DoneCallback | None = None  # set while a request is in flight
        self._on_body: BodyCallback | None = None
        self.sent_at = 0.0  # when the request in flight was written (``time.perf_counter``)
        self._buffer = bytearray()
        self._status = 0
        self._head = b""
        self._body: list[bytes] = []
        self._mode = ""  # "" = reading the head; "length", "chunked", "close"
        self._remaining = 0
        self._keep_alive = True
        self.closed = False

    # -- asyncio.Protocol -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._mode == "close" and self._done is not None:
            self._finish()  # a close-delimited body ends here
            return
        self._fail(HttpClientError(f"connection closed by the server{f': {exc}' if exc else ''}"))

    def data_received(self, data: bytes) -> None:
        if self._done is None:
            return  # nothing asked: bytes after a complete response are ignored
        try:
            if not self._buffer:  # the usual case, without copying into the buffer
                if not self._mode:
                    end = data.find(_HEAD_END)
                    if end >= 0:
                        self._read_head(data[:end])
                        data = data[end + 4 :]
                if self._mode == "length" and len(data) <= self._remaining:
                    self._remaining -= len(data)
                    if data:
                        self._deliver(data)
                    if self._remaining == 0:
                        self._finish()
                    return
            self._buffer += data
            self._parse()
        except HttpClientError as exc:
            self.close()
            self._fail(exc)

    # -- the API ----------------------------------------------------------------

    @property
    def reusable(self) -> bool:
        return not self.closed and self._keep_alive and self._done is None

    @property
    def busy(self) -> bool:
        return self._done is not None

    def request(self, data: bytes, on_body: BodyCallback | None = None) -> asyncio.Future[Response]:
        """Write one request; the future gets its response (or an ``HttpClientError``).

        ``on_body`` receives the body as it arrives instead of it being collected
        (the response's ``body`` is then empty): the streaming reader of SSE.
        """
        waiter: asyncio.Future[Response] = asyncio.get_running_loop().create_future()

        def resolve(response: Response | None, error: BaseException | None) -> None:
            if waiter.done():
                return
            if response is not None:
                waiter.set_result(response)
            else:
                waiter.set_exception(error or HttpClientError("no response"))

        self.send(data, resolve, on_body)
        return waiter

    def send(self, data: bytes, done: DoneCallback, on_body: BodyCallback | None = None) -> None:
        """Write one request; ``done(response, None)`` or ``done(None, error)`` follows.

        ``done`` runs inside the protocol callback that completed the response,
        after this connection is free again, so it may ``send`` the next request
        at once: a closed loop with no future or task switch per request
        (``lanes.py``), which halves the client's CPU per request.
        """
        if not self.reusable or self._transport is None:
            done(None, HttpClientError("the connection cannot take a request"))
            return
        self._done = done
        self._on_body = on_body
        self._mode = ""
        self._buffer.clear()
        self._body = []
        self.sent_at = time.perf_counter()
        self._transport.write(data)

    def expire(self) -> None:
        """The request took too long: fail it with ``TimeoutError``, drop the connection."""
        self.close()
        self._fail(TimeoutError())

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    # -- parsing ----------------------------------------------------------------

    def _parse(self) -> None:
        if not self._mode:
            end = self._buffer.find(_HEAD_END)
            if end < 0:
                if len(self._buffer) > _MAX_HEAD:
                    raise HttpClientError("response head over 64 KiB")
                return
            self._read_head(bytes(self._buffer[:end]))
            del self._buffer[: end + 4]
        if self._mode == "length":
            take = min(self._remaining, len(self._buffer))
            if take:
                self._deliver(bytes(self._buffer[:take]))
                del self._buffer[:take]
                self._remaining -= take
            if self._remaining == 0:
                self._finish()
        elif self._mode == "chunked":
            self._read_chunks()
        elif self._buffer:  # close-delimited
            self._deliver(bytes(self._buffer))
            self._buffer.clear()

    def _read_head(self, head: bytes) -> None:
        """Status, framing and keep-alive from the head; other headers are kept raw.

        Searching the lower-cased head costs a fraction of splitting every line
        into a dict, and a load generator reads heads all day.
        """
        if head[:7] != b"HTTP/1." or len(head) < 12:
            raise HttpClientError(f"not an HTTP/1.x response: {head[:80]!r}")
        try:
            self._status = int(head[9:12])
        except ValueError:
            raise HttpClientError(f"bad status line: {head[:80]!r}") from None
        self._head = head
        lower = head.lower()
        self._keep_alive = head[7:8] == b"1" and (
            b"\r\nconnection:" not in lower or _header(lower, b"connection") != b"close"
        )
        length = _header(lower, b"content-length")
        if b"\r\ntransfer-encoding:" in lower and b"chunked" in (
            _header(lower, b"transfer-encoding") or b""
        ):
            self._mode, self._remaining = "chunked", -1
        elif length is not None:
            try:
                self._mode, self._remaining = "length", int(length)
            except ValueError:
                raise HttpClientError("bad Content-Length") from None
        elif self._status in (204, 304) or 100 <= self._status < 200:
            self._mode, self._remaining = "length", 0
        else:
            self._mode, self._keep_alive = "close", False

    def _read_chunks(self) -> None:
        buffer = self._buffer
        while True:
            if self._remaining < 0:  # at a chunk-size line
                end = buffer.find(b"\r\n")
                if end < 0:
                    return
                size_text = bytes(buffer[:end]).split(b";", 1)[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise HttpClientError(f"bad chunk size {size_text[:20]!r}") from None
                if size == 0:  # the last chunk, then trailers (usually none) and a blank line
                    if buffer.find(_HEAD_END, end) < 0:
                        return
                    del buffer[:]
                    self._finish()
                    return
                del buffer[: end + 2]
                self._remaining = size
            if len(buffer) < self._remaining + 2:
                if self._remaining and len(buffer) > 0:  # pass partial data on at once
                    take = min(len(buffer), self._remaining)
                    self._deliver(bytes(buffer[:take]))
                    del buffer[:take]
                    self._remaining -= take
                if len(buffer) < self._remaining + 2:
                    return
            self._deliver(bytes(buffer[: self._remaining]))
            del buffer[: self._remaining + 2]
            self._remaining = -1

    def _deliver(self, data: bytes) -> None:
        if not data:
            return
        if self._on_body is not None:
            self._on_body(data)
        else:
            self._body.append(data)

    def _finish(self) -> None:
        done, self._done = self._done, None
        self._on_body = None
        response = Response(self._status, self._head, b"".join(self._body))
        self._body = []
        if not self._keep_alive:
            self.close()
        if done is not None:
            done(response, None)

    def _fail(self, exc: BaseException) -> None:
        done, self._done = self._done, None
        self._on_body = None
        if done is not None:
            done(None, exc)


async def open_connection(host: str, port: int) -> Connection:
    """A connected ``Connection`` (``OSError`` if nothing listens there)."""
    loop = asyncio.get_running_loop()
    _transport, connection = await loop.create_connection(Connection, host, port)
    return connection
