"""Latency probes that wrk cannot express: SSE, cancel, health under load, webhooks.

Why asyncio: these probes need to hold a streaming response open, run a
prediction and a second request at the same time, and receive webhooks on
loopback, all with per-step deadlines. The timed requests (SSE, health
checks) go over raw sockets, since httpx's own ~2 ms per request was more
than the servers' answers; the rest use httpx. Every wait here is bounded
by ``asyncio.wait_for`` or a deadline loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

HOST = "127.0.0.1"


def _ms(seconds: float) -> float:
    return seconds * 1000


def _percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (values need not be sorted)."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Webhook:
    """One received webhook POST."""

    at: float
    payload: dict[str, Any]


@dataclass
class WebhookReceiver:
    """A minimal HTTP/1.1 server on loopback that records every POSTed JSON body.

    Why hand-written: it must add no dependency and no noticeable latency;
    it answers 200 immediately and supports keep-alive connections.
    """

    received: list[Webhook] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _connections: dict[asyncio.StreamWriter, asyncio.Task[Any]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        assert self._server is not None, "receiver not started"
        port = self._server.sockets[0].getsockname()[1]
        return f"http://{HOST}:{port}/webhook"

    async def __aenter__(self) -> WebhookReceiver:
        self._server = await asyncio.start_server(self._handle, HOST, 0)
        return self

    async def __aexit__(self, *_: object) -> None:
        """Close idle keep-alive connections so no handler is left pending."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._connections):
            writer.close()  # the handler's read then hits EOF and returns
        if self._connections:
            await asyncio.wait(list(self._connections.values()), timeout=5)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[writer] = task
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    key, _, value = line.partition(":")
                    if key.strip().lower() == "content-length":
                        length = int(value.strip())
                body = await reader.readexactly(length) if length else b""
                now = time.perf_counter()
                try:
                    payload = json.loads(body) if body else {}
                except ValueError:
                    payload = {"_invalid_json": body[:200].decode("latin-1")}
                self.received.append(Webhook(now, payload))
                self._changed.set()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            self._connections.pop(writer, None)
            writer.close()

    def for_id(self, prediction_id: str) -> list[Webhook]:
        return [hook for hook in self.received if hook.payload.get("id") == prediction_id]

    async def wait_status(
        self, prediction_id: str, statuses: set[str], timeout_s: float
    ) -> Webhook | None:
        """First webhook for ``prediction_id`` whose status is in ``statuses``."""
        deadline = time.perf_counter() + timeout_s
        while True:
            for hook in self.for_id(prediction_id):
                if hook.payload.get("status") in statuses:
                    return hook
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return None
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=remaining)
            except asyncio.TimeoutError:
                return None


def _client(base_url: str, timeout_s: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=timeout_s, trust_env=False)


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    """An HTTP/1.1 response's status code and headers (names lower-cased)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(":") for line in header_lines if line)
    )
    return int(status_line.split(" ", 2)[1]), headers


class RawGet:
    """Keep-alive HTTP/1.1 GETs on one connection, with nearly no client-side cost.

    Why not httpx: on this machine an httpx ``GET`` costs about 2 ms of
    client time, which is more than a server takes to answer a health check
    (~0.15 ms idle), so it would measure the client. This reads exactly one
    response per request (``Content-Length`` or chunked), as wrk does. A
    server that closes the connection (hypercorn does after 1000 requests)
    says so in ``Connection: close``; the next request then reconnects.
    """

    def __init__(self, host: str, port: int) -> None:
        self._address = (host, port)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @classmethod
    async def connect(cls, base_url: str, timeout_s: float) -> RawGet:
        url = httpx.URL(base_url)
        assert url.port is not None, "base_url needs a port"
        client = cls(url.host, url.port)
        await client._open(timeout_s)
        return client

    async def _open(self, timeout_s: float) -> None:
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(*self._address), timeout_s
        )

    async def get(self, path: str, timeout_s: float) -> tuple[int, bytes]:
        """One request; returns the status code and the body."""
        if self._writer is None:
            await self._open(timeout_s)
        assert self._writer is not None
        self._writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        return await asyncio.wait_for(self._read_response(), timeout_s)

    async def _read_response(self) -> tuple[int, bytes]:
        assert self._reader is not None
        status, headers = await _read_head(self._reader)
        if "content-length" in headers:
            body = await self._reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = bytearray()
            while size := int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16):
                chunks += await self._reader.readexactly(size)
                await self._reader.readexactly(2)
            await self._reader.readuntil(b"\r\n")  # the empty trailer section
            body = bytes(chunks)
        else:
            raise RuntimeError(f"response without length or chunking: {headers}")
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _sse_data_events(base_url: str, payload: dict[str, Any]) -> list[tuple[str, float]]:
    """POST with ``Accept: text/event-stream`` on a raw socket: each data line's event and arrival.

    Why not httpx: its per-request and per-line costs (~2 ms, then a few µs
    per line) were a large part of what this probe timed, and it sends the
    headers and the body in two writes, which Nagle's algorithm can hold
    back for a delayed ACK (~40 ms). Bytes are parsed as they arrive
    (chunked, ``Content-Length`` or until close) and stamped then; the
    caller bounds the whole stream with one timeout.
    """
    url = httpx.URL(base_url)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    seen: list[tuple[str, float]] = []
    try:
        body = json.dumps(payload).encode()
        writer.write(
            (
                f"POST /predictions HTTP/1.1\r\nHost: {HOST}\r\n"
                "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            + body
        )
        status, headers = await _read_head(reader)
        if status != 200:
            raise RuntimeError(f"SSE request answered {status}: {await reader.read(300)!r}")
        chunked = headers.get("transfer-encoding", "").lower() == "chunked"
        pending = b""
        event = ""
        while True:
            if chunked:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    return seen
                data = (await reader.readexactly(size + 2))[:-2]
            else:
                data = await reader.read(65536)
                if not data:
                    return seen
            arrived = time.perf_counter()
            *lines, pending = (pending + data).split(b"\n")
            for raw in lines:
                line = raw.rstrip(b"\r")
                if line.startswith(b"event:"):
                    event = line[6:].strip().decode()
                elif line.startswith(b"data:"):
                    seen.append((event, arrived))
                    if event == "completed":
                        return seen
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def sse_probe(base_url: str, tokens: int, repeats: int, timeout_s: float) -> dict[str, Any]:
    """Stream ``tokens`` tokens ``repeats`` times; time to first token and tokens/s."""
    ttft: list[float] = []
    rates: list[float] = []
    totals: list[float] = []
    for _ in range(repeats):
        started = time.perf_counter()
        seen = await asyncio.wait_for(
            _sse_data_events(base_url, {"input": {"tokens": tokens}}), timeout_s
        )
        outputs = [arrived for event, arrived in seen if event == "output"]
        completed = [arrived for event, arrived in seen if event == "completed"]
        if not completed or len(outputs) != tokens:
            raise RuntimeError(
                f"SSE stream incomplete: {len(outputs)}/{tokens} output events, "
                f"completed={bool(completed)}"
            )
        total = completed[0] - started
        ttft.append(_ms(outputs[0] - started))
        rates.append(len(outputs) / total)
        totals.append(_ms(total))
    return {
        "sse_ttft_ms": statistics.median(ttft),
        "sse_tokens_per_s": statistics.median(rates),
        "sse_total_ms": statistics.median(totals),
        "sse_streams": repeats,
    }


async def cancel_probe(
    base_url: str, repeats: int, burn_seconds: float, timeout_s: float
) -> dict[str, Any]:
    """Cancel a running CPU-bound prediction; ms from cancel POST to ``canceled`` webhook.

    The terminal state is observed by webhook because a PUT of a finished id
    starts a new prediction on Cog (its idempotency only covers in-flight ids).
    """
    observed: list[float] = []
    acked: list[float] = []
    async with WebhookReceiver() as receiver, _client(base_url, timeout_s) as client:
        for _ in range(repeats):
            prediction_id = f"cancel-{uuid.uuid4().hex[:12]}"
            resp = await client.post(
                "/predictions",
                json={
                    "id": prediction_id,
                    "input": {"seconds": burn_seconds},
                    "webhook": receiver.url,
                    "webhook_events_filter": ["start", "completed"],
                },
                headers={"Prefer": "respond-async"},
            )
            if resp.status_code != 202:
                raise RuntimeError(f"async create answered {resp.status_code}: {resp.text[:300]}")
            # Let predict enter its pure-Python spin loop before cancelling.
            await asyncio.sleep(0.3)
            sent = time.perf_counter()
            resp = await client.post(f"/predictions/{prediction_id}/cancel")
            acked.append(_ms(time.perf_counter() - sent))
            if resp.status_code != 200:
                raise RuntimeError(f"cancel answered {resp.status_code}: {resp.text[:300]}")
            hook = await receiver.wait_status(
                prediction_id, {"canceled", "succeeded", "failed"}, timeout_s
            )
            if hook is None:
                raise RuntimeError(f"no terminal webhook within {timeout_s} s of cancel")
            if hook.payload.get("status") != "canceled":
                raise RuntimeError(f"prediction ended {hook.payload.get('status')}, not canceled")
            observed.append(_ms(hook.at - sent))
            await _wait_idle(client, timeout_s)
    return {
        "cancel_to_webhook_ms": statistics.median(observed),
        "cancel_http_ms": statistics.median(acked),
        "cancels": repeats,
    }


async def _wait_idle(client: httpx.AsyncClient, timeout_s: float) -> None:
    """Wait until the server reports READY again (its slot is free)."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        resp = await client.get("/health-check")
        if resp.status_code == 200 and resp.json().get("status") == "READY":
            return
        await asyncio.sleep(0.01)
    raise RuntimeError(f"server not READY within {timeout_s} s after a prediction")


async def health_probe(
    base_url: str, burn_seconds: float, idle_samples: int, timeout_s: float
) -> dict[str, Any]:
    """Health-check latency idle, then back-to-back while a sync CPU burn holds the GIL.

    The burn goes over httpx; the health checks over ``RawGet`` on their
    own keep-alive connection, so the figures are the server's, not httpx's.
    """
    async with _client(base_url, timeout_s + burn_seconds) as client:
        prober = await RawGet.connect(base_url, timeout_s)
        try:
            idle: list[float] = []
            for _ in range(idle_samples):
                sent = time.perf_counter()
                await prober.get("/health-check", timeout_s)
                idle.append(_ms(time.perf_counter() - sent))
            burn = asyncio.create_task(
                client.post("/predictions", json={"input": {"seconds": burn_seconds}})
            )
            await asyncio.sleep(min(0.3, burn_seconds / 4))
            busy: list[float] = []
            stop_at = time.perf_counter() + burn_seconds * 0.8
            while not burn.done() and time.perf_counter() < stop_at:
                sent = time.perf_counter()
                status, _ = await prober.get("/health-check", timeout_s)
                busy.append(_ms(time.perf_counter() - sent))
                if status != 200:
                    raise RuntimeError(f"health-check answered {status} while busy")
            result = await asyncio.wait_for(burn, timeout=burn_seconds + timeout_s)
        finally:
            await prober.close()
        if result.status_code != 200 or result.json().get("status") != "succeeded":
            raise RuntimeError(f"cpu_burn answered {result.status_code}: {result.text[:300]}")
    if not busy:
        raise RuntimeError("no health-check completed while the burn ran")
    return {
        "health_idle_p50_ms": statistics.median(idle),
        "health_busy_p50_ms": statistics.median(busy),
        "health_busy_p99_ms": _percentile(busy, 99),
        "health_busy_max_ms": max(busy),
        "health_busy_samples": len(busy),
    }


async def webhook_probe(base_url: str, tokens: int, timeout_s: float) -> dict[str, Any]:
    """Count webhook POSTs (all event types) for one async ``tokens``-token stream."""
    async with WebhookReceiver() as receiver, _client(base_url, timeout_s) as client:
        prediction_id = f"hooks-{uuid.uuid4().hex[:12]}"
        sent = time.perf_counter()
        resp = await client.post(
            "/predictions",
            json={"id": prediction_id, "input": {"tokens": tokens}, "webhook": receiver.url},
            headers={"Prefer": "respond-async"},
        )
        if resp.status_code != 202:
            raise RuntimeError(f"async create answered {resp.status_code}: {resp.text[:300]}")
        hook = await receiver.wait_status(
            prediction_id, {"succeeded", "failed", "canceled"}, timeout_s
        )
        if hook is None:
            raise RuntimeError(f"no terminal webhook within {timeout_s} s")
        # Late, out-of-order deliveries would still count: give them a moment.
        await asyncio.sleep(0.5)
        hooks = receiver.for_id(prediction_id)
        output = hook.payload.get("output") or []
        return {
            "webhook_posts": len(hooks),
            "webhook_completed_ms": _ms(hook.at - sent),
            "webhook_final_tokens": len(output) if isinstance(output, list) else -1,
        }
