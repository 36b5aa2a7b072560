"""Server-sent events for ``@streaming`` models (spec §14).

Three pieces, one job each:

* ``EventLog`` listens to one prediction from the moment it is created,
  encodes each event once into its wire frame, keeps the most recent
  ``COG_STREAM_HISTORY_CAPACITY`` frames for late subscribers, and fans
  every frame out to the current subscribers. ``Streams`` finds the log of
  an in-flight prediction by id (re-attach with ``PUT``).
* ``Subscriber`` is one client's view: the replayed history, then a live
  queue. Nothing in here ever waits for a client: a subscriber that falls
  too far behind is cut off with the ``lagged`` error event, so a slow
  reader costs bounded memory and never slows the prediction or the loop.
* ``EventStreamResponse`` writes a subscriber to the ASGI channel, each batch
  of ready frames in one ``send`` as soon as it is ready (no timer, no
  batching delay), a ``:keep-alive`` comment after ``KEEPALIVE_INTERVAL``
  seconds of silence, and closes after ``completed`` or an ``error`` event.

When is a subscriber lagged? Only when its waiting live frames would pass
*both* ``LIVE_BUFFER`` (1024, the spec's live buffer) *and* ``LIVE_BYTES``
(8 MiB, each frame's object overhead included). The count alone does not
tell a slow client from a fast one: a sync generator's chunks reach the
loop in batches of up to 1024, and two batches (or one plus ``start``) can
land before the writer task gets a turn, or while its last ``send`` waits
for the transport, although the client reads at full loopback speed. A burst
of 5000 short tokens costs under 0.5 MiB; a client 8 MiB behind is not
keeping up. So one subscriber holds at most 8 MiB of small frames or 1024
large ones, and frames are shared, never copied, between the history and
every subscriber.

A prediction created in SSE mode is canceled when its last subscriber goes
away before it is terminal (spec §14.4); predictions created in sync or
async mode never are. A subscriber cut off as lagged has gone away too, at
the moment it is cut off: it missed more than 1024 events (the default
history, so a re-attach gets ``replay truncated``), and an SSE-created
prediction would otherwise hold its slot for nobody. The spec names only
disconnects as triggers and is silent on lag; since only a client 8 MiB
behind is cut off, a burst never cancels.
"""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from typing import Any

import msgspec
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from cogrt.http.disconnect import watch
from cogrt.runner.prediction import Prediction

__all__ = [
    "KEEPALIVE_INTERVAL",
    "LIVE_BUFFER",
    "LIVE_BYTES",
    "MAX_SUBSCRIBERS",
    "EventLog",
    "EventStreamResponse",
    "Streams",
    "Subscriber",
    "encode_event",
]

KEEPALIVE_INTERVAL = 15.0
"""Seconds of silence before a ``:keep-alive`` comment keeps proxies from timing out."""
LIVE_BUFFER = 1024
"""Frames one subscriber may always have waiting (spec §14.4), whatever their size."""
LIVE_BYTES = 8 * 1024 * 1024
"""Bytes (frames plus their overhead) one subscriber may always have waiting.

A subscriber is cut off as lagged only once its waiting frames exceed both
``LIVE_BUFFER`` and ``LIVE_BYTES``.
"""
MAX_SUBSCRIBERS = 1024
"""Concurrent subscribers per prediction; more get 429."""

_KEEPALIVE = b":keep-alive\n\n"
_FRAME_OVERHEAD = sys.getsizeof(b"") + 8
"""What holding one frame costs besides its bytes: the bytes object's header, a deque slot."""
_encode = msgspec.json.Encoder().encode


def encode_event(name: str, data: Any) -> bytes:
    """One SSE frame: ``event:`` line, compact JSON ``data:`` line, blank line."""
    return b"event: " + name.encode() + b"\ndata: " + _encode(data) + b"\n\n"


def _error_frame(message: str, skipped: int) -> bytes:
    return encode_event("error", {"error": message, "skipped": skipped})


class Subscriber:
    """Frames waiting for one client, and whether the stream ends after them."""

    def __init__(self, log: EventLog, backlog: list[bytes], *, ended: bool = False) -> None:
        self._log = log
        self._frames: deque[bytes] = deque(backlog)
        self._live = 0
        self._live_bytes = 0
        self._skipped = 0
        self._last = ended
        self._gone = False
        self._waiter: asyncio.Future[None] | None = None

    @property
    def waiting_bytes(self) -> int:
        """What the live frames waiting for the writer cost, overhead included."""
        return self._live_bytes

    @property
    def gone(self) -> bool:
        """True once the client left (or the writer stopped) before the end."""
        return self._gone

    def push(self, frame: bytes, *, last: bool = False) -> None:
        """Queue a live frame; never waits (called from the prediction's emit).

        When the frame would put more than ``LIVE_BUFFER`` frames *and* more
        than ``LIVE_BYTES`` in the queue, the subscriber is lagged: its queue
        is dropped, it detaches from the log at once (which cancels an
        SSE-created prediction it was the last subscriber of), and the
        writer's next ``take`` gets the ``lagged`` error counting the dropped
        frames.
        """
        if self._last or self._gone or self._skipped:
            return
        cost = len(frame) + _FRAME_OVERHEAD
        if self._live >= LIVE_BUFFER and self._live_bytes + cost > LIVE_BYTES:
            self._skipped = len(self._frames) + 1
            self._frames.clear()
            self._live = self._live_bytes = 0
            self._log.detach(self)
        else:
            self._frames.append(frame)
            self._live += 1
            self._live_bytes += cost
            self._last = last
        self._wake()

    def take(self) -> tuple[bytes, bool]:
        """Everything ready now as one chunk, and whether the stream ends with it."""
        if self._skipped:
            message = "SSE stream lagged; events were dropped"
            self._last = True
            return _error_frame(message, self._skipped), True
        chunk = b"".join(self._frames)
        self._frames.clear()
        self._live = self._live_bytes = 0
        return chunk, self._last

    async def wait(self, timeout: float) -> bool:
        """Wait for a frame or the client leaving; False when ``timeout`` passed first."""
        if self._frames or self._last or self._gone or self._skipped:
            return True
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(timeout, _resolve, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None
        return bool(self._frames or self._last or self._gone or self._skipped)

    def leave(self) -> None:
        """The client is gone (or the writer stopped): detach, maybe cancel (§14.4)."""
        if not self._gone:
            self._gone = True
            self._wake()
            self._log.detach(self)

    def _wake(self) -> None:
        if self._waiter is not None:
            _resolve(self._waiter)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class EventLog:
    """Replay history and live fan-out of one prediction's events."""

    def __init__(self, prediction: Prediction, capacity: int) -> None:
        self.prediction = prediction
        self._capacity = capacity
        self._history: deque[bytes] = deque()
        self._evicted = 0
        self._subscribers: list[Subscriber] = []
        self._ended = False
        prediction.add_listener(self._on_event)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> Subscriber | None:
        """A new subscriber fed the history first; ``None`` when the prediction is full.

        When events were already evicted from the history, the subscriber gets
        only the ``replay truncated`` error and its stream ends.
        """
        if len(self._subscribers) >= MAX_SUBSCRIBERS:
            return None
        if self._evicted:
            message = "SSE stream replay truncated; events were dropped"
            return Subscriber(self, [_error_frame(message, self._evicted)], ended=True)
        subscriber = Subscriber(self, list(self._history), ended=self._ended)
        if not self._ended:
            self._subscribers.append(subscriber)
        return subscriber

    def detach(self, subscriber: Subscriber) -> None:
        if subscriber not in self._subscribers:
            return
        self._subscribers.remove(subscriber)
        if not self._subscribers and not self._ended and self.prediction.created_by == "sse":
            self.prediction.cancel()

    def _on_event(self, name: str, data: Any) -> None:
        frame = encode_event(name, data)
        last = name == "completed"
        if self._capacity:
            if len(self._history) >= self._capacity:
                self._history.popleft()
                self._evicted += 1
            self._history.append(frame)
        for subscriber in tuple(self._subscribers):  # a lagged one detaches itself
            subscriber.push(frame, last=last)
        if last:
            self._ended = True
            self._subscribers.clear()


class Streams:
    """The event logs of in-flight predictions of a streaming model, by id."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._logs: dict[str, EventLog] = {}

    def track(self, prediction: Prediction) -> EventLog:
        """Start recording ``prediction``; call before its first event (right after start)."""
        log = EventLog(prediction, self.capacity)
        self._logs[prediction.id] = log

        def forget(name: str, _data: Any) -> None:
            if name == "completed" and self._logs.get(prediction.id) is log:
                del self._logs[prediction.id]

        prediction.add_listener(forget)
        return log

    def get(self, prediction_id: str) -> EventLog | None:
        return self._logs.get(prediction_id)

    def subscribers(self) -> int:
        """Subscribers of every in-flight prediction, now (the ``/metrics`` gauge)."""
        return sum(log.subscribers for log in self._logs.values())


class EventStreamResponse(Response):
    """A 200 ``text/event-stream`` response that writes one subscriber's frames."""

    def __init__(self, subscriber: Subscriber) -> None:
        # Like starlette's StreamingResponse: no body, so no content-length,
        # and no charset appended to the media type.
        self.subscriber = subscriber
        self.status_code = 200
        self.background = None
        self.init_headers({"content-type": "text/event-stream", "cache-control": "no-cache"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        subscriber = self.subscriber
        watcher = watch(receive, subscriber.leave)
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            while True:
                chunk, last = subscriber.take()
                if subscriber.gone:
                    return
                if chunk or last:
                    await send(_body(chunk, more=not last))
                if last:
                    return
                if not await subscriber.wait(KEEPALIVE_INTERVAL):
                    await send(_body(_KEEPALIVE, more=True))
        finally:
            watcher.cancel()
            subscriber.leave()


def _body(chunk: bytes, *, more: bool) -> Message:
    return {"type": "http.response.body", "body": chunk, "more_body": more}
