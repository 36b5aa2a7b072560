"""A loopback receiver for the ``completed`` webhooks of ``Prefer: respond-async`` load.

Each async prediction the bench creates names this receiver as its webhook
and its own ``id``; the receiver resolves that id's future with the terminal
status. Keep-alive, ``Content-Length`` bodies only (what webhook senders use).
"""

from __future__ import annotations

import asyncio
from typing import cast

import msgspec

__all__ = ["WebhookSink"]

_HEAD_END = b"\r\n\r\n"
_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
_BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class _Payload(msgspec.Struct):
    id: str = ""
    status: str = ""


_decode = msgspec.json.Decoder(_Payload).decode


class _Receiver(asyncio.Protocol):
    def __init__(self, sink: WebhookSink) -> None:
        self._sink = sink
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._sink.transports.add(self._transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._sink.transports.discard(self._transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(_HEAD_END)
            if end < 0:
                return
            length = 0
            for line in bytes(self._buffer[:end]).split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length" and value.strip().isdigit():
                    length = int(value)
            if len(self._buffer) < end + 4 + length:
                return
            body = bytes(self._buffer[end + 4 : end + 4 + length])
            del self._buffer[: end + 4 + length]
            assert self._transport is not None
            try:
                payload = _decode(body)
            except msgspec.DecodeError:
                self._transport.write(_BAD)
                self._transport.close()
                return
            self._transport.write(_OK)
            self._sink.deliver(payload.id, payload.status)


class WebhookSink:
    """Serve on ``127.0.0.1:0`` (or ``host``); ``expect(id)`` before creating the prediction."""

    def __init__(self) -> None:
        self._waiters: dict[str, asyncio.Future[str]] = {}
        self._server: asyncio.Server | None = None
        self.transports: set[asyncio.Transport] = set()
        self.url = ""

    async def start(self, host: str = "127.0.0.1", advertised: str | None = None) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Receiver(self), host, 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://{advertised or host}:{port}/webhook"

    def expect(self, prediction_id: str) -> asyncio.Future[str]:
        waiter: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiters[prediction_id] = waiter
        return waiter

    def forget(self, prediction_id: str) -> None:
        self._waiters.pop(prediction_id, None)

    def deliver(self, prediction_id: str, status: str) -> None:
        if status not in ("succeeded", "failed", "canceled"):
            return  # an intermediate webhook: the filter asked for none, a Cog server may send
        waiter = self._waiters.pop(prediction_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(status)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for transport in list(self.transports):  # senders keep connections alive
                transport.close()
            await self._server.wait_closed()
