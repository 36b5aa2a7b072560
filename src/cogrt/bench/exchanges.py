"""One prediction over HTTP in each of Cog's three modes, recorded into a ``Tally``.

- ``sync``: ``POST /predictions``, the answer is the finished prediction;
- ``async``: ``Prefer: respond-async`` with a webhook to the bench's own
  receiver, done when the ``completed`` webhook arrives;
- ``sse``: ``Accept: text/event-stream``, done at the ``completed`` event,
  with the time to the first ``output`` event and the chunk count.

Latency runs from ``start``, the request's *intended* start (see
``schedule.py``), to the moment the outcome is known.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Awaitable
from typing import Any, Protocol

import msgspec

from cogrt.bench.client import Connection, Response, build_request
from cogrt.bench.outcomes import Tally, classify_status
from cogrt.bench.plan import Mode
from cogrt.bench.pool import ConnectionPool
from cogrt.bench.sse_reader import SseReader
from cogrt.bench.webhook_sink import WebhookSink
from cogrt.errors import HttpClientError

__all__ = ["HttpRequester", "Requester", "record_answer"]

_TERMINAL = {"succeeded": "ok", "failed": "failed", "canceled": "canceled"}


class _Status(msgspec.Struct):
    status: str = ""
    error: Any = None


_decode_status = msgspec.json.Decoder(_Status).decode


class Requester(Protocol):
    """Sends prediction ``index`` (cycling through the inputs) and records its outcome."""

    async def send(self, index: int, start: float, tally: Tally) -> None: ...


def _detail(response: Response) -> str:
    """What a refusal says: a 422's field errors as ``field: message``, else the body."""
    if response.status == 422:
        try:
            errors = msgspec.json.decode(response.body)["detail"]
            return "the model rejected the input: " + "; ".join(
                f"{'.'.join(str(p) for p in e['loc'] if p not in ('body', 'input'))}: {e['msg']}"
                for e in errors
            )
        except (msgspec.DecodeError, KeyError, TypeError):
            pass
    text = response.body[:300].decode("utf-8", "replace")
    return f"HTTP {response.status}: {text}"


def _prediction_outcome(body: bytes) -> tuple[str, str | None]:
    try:
        answer = _decode_status(body)
    except msgspec.DecodeError:
        return "error", "a 200 answer that is not a prediction's JSON"
    outcome = _TERMINAL.get(answer.status, "error")
    detail = None if outcome == "ok" else f"prediction {answer.status}: {answer.error}"
    return outcome, detail


def record_answer(
    tally: Tally,
    response: Response | None,
    error: BaseException | None,
    latency_us: int,
    timeout: float,
) -> None:
    """Record a sync prediction's answer (or why there is none) into ``tally``."""
    if response is None:
        if isinstance(error, TimeoutError):
            tally.add("timeout", 0, f"no answer within {timeout:g} s")
        else:
            tally.add("error", 0, str(error))
    elif response.status == 200:
        outcome, detail = _prediction_outcome(response.body)
        tally.add(outcome, latency_us, detail)
    else:
        tally.add(classify_status(response.status), latency_us, _detail(response))


async def _answer(
    future: asyncio.Future[Response], timer: asyncio.TimerHandle, tally: Tally, timeout: float
) -> Response | None:
    try:
        return await future
    except TimeoutError:
        tally.add("timeout", 0, f"no answer within {timeout:g} s")
    except HttpClientError as exc:
        tally.add("error", 0, str(exc))
    finally:
        timer.cancel()
    return None


class HttpRequester:
    """Predictions against a Cog HTTP API through a ``ConnectionPool``."""

    def __init__(
        self,
        pool: ConnectionPool,
        inputs: list[dict[str, Any]],
        mode: Mode,
        timeout: float,
        sink: WebhookSink | None = None,
    ) -> None:
        self.pool = pool
        self.mode = mode
        self.timeout = timeout
        self._sink = sink
        self._inputs = inputs
        host = f"{pool.host}:{pool.port}"
        headers = {"Accept": "text/event-stream"} if mode == "sse" else {}
        self.requests = [
            build_request("POST", "/predictions", host, msgspec.json.encode(body), headers)
            for body in inputs
        ]
        self._host = host
        self._n = len(self.requests)
        self._loop = asyncio.get_running_loop()
        self._ids = itertools.count()
        self._id_prefix = f"bench-{os.getpid()}-{time.time_ns() // 1_000_000}-"

    async def send(self, index: int, start: float, tally: Tally) -> None:
        connection = self.pool.idle()
        if connection is None:
            try:
                connection = await self.pool.acquire()
            except OSError as exc:
                tally.add("error", 0, f"cannot connect: {exc}")
                return
        try:
            if self.mode == "sync":  # the hot path, inlined: no coroutine per layer
                response = await self._exchange(connection, self.requests[index % self._n], tally)
                if response is not None:
                    latency = round((time.perf_counter() - start) * 1e6)
                    record_answer(tally, response, None, latency, self.timeout)
            elif self.mode == "sse":
                await self._send_sse(connection, index, start, tally)
            else:
                await self._send_async(connection, index, start, tally)
        finally:
            self.pool.release(connection)

    def _exchange(
        self, connection: Connection, data: bytes, tally: Tally, reader: SseReader | None = None
    ) -> Awaitable[Response | None]:
        """The response, or None once a timeout or broken connection is recorded."""
        future = connection.request(data, reader)
        timer = self._loop.call_later(self.timeout, connection.expire)
        return _answer(future, timer, tally, self.timeout)

    async def _send_sse(self, connection: Connection, index: int, start: float, t: Tally) -> None:
        reader = SseReader()
        data = self.requests[index % len(self.requests)]
        response = await self._exchange(connection, data, t, reader)
        if response is None:
            return
        now = time.perf_counter()
        latency = round((now - start) * 1e6)
        if response.status != 200:
            t.add(classify_status(response.status), latency, _detail(response))
            return
        if reader.status is None:
            t.add("error", latency, "the event stream ended without a `completed` event")
            return
        ttft = None if reader.first_at is None else round((reader.first_at - start) * 1e6)
        t.add_stream(ttft, reader.chunks, reader.last_at - (reader.first_at or reader.last_at))
        outcome = _TERMINAL.get(reader.status, "error")
        t.add(outcome, latency, None if outcome == "ok" else f"prediction {reader.status}")

    async def _send_async(self, connection: Connection, index: int, start: float, t: Tally) -> None:
        assert self._sink is not None
        prediction_id = f"{self._id_prefix}{next(self._ids)}"
        body = {
            "id": prediction_id,
            **self._inputs[index % len(self._inputs)],
            "webhook": self._sink.url,
            "webhook_events_filter": ["completed"],
        }
        data = build_request(
            "POST",
            "/predictions",
            self._host,
            msgspec.json.encode(body),
            {"Prefer": "respond-async"},
        )
        waiter = self._sink.expect(prediction_id)
        try:
            response = await self._exchange(connection, data, t)
            if response is None:
                return
            if response.status != 202:
                latency = round((time.perf_counter() - start) * 1e6)
                t.add(classify_status(response.status), latency, _detail(response))
                return
            left = self.timeout - (time.perf_counter() - start)
            try:
                status = await asyncio.wait_for(waiter, max(left, 0.001))
            except asyncio.TimeoutError:
                t.add("timeout", 0, f"no completed webhook within {self.timeout:g} s")
                return
            outcome = _TERMINAL.get(status, "error")
            latency = round((time.perf_counter() - start) * 1e6)
            t.add(outcome, latency, None if outcome == "ok" else f"prediction {status}")
        finally:
            self._sink.forget(prediction_id)
