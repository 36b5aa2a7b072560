"""One prediction: its record (spec §12) and the single event stream it emits.

Every consumer (the sync HTTP response, webhooks, SSE) reads the same
``(event, data)`` sequence: ``start``, ``output``, ``log``, ``metric``,
``completed``. Mutations happen on the event loop; writers on other threads
(the worker thread, helper threads logging) hop over with
``call_soon_threadsafe``, which keeps their order.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Literal

import msgspec

from cogrt.clock import utc_now
from cogrt.runner.logs import LineBuffer
from cogrt.runner.worker_thread import CancelGuard
from cogrt.sdk.scope import MetricEvent, Scope
from cogrt.transfer.record import Listener

__all__ = ["Delivery", "Event", "Listener", "Prediction", "new_prediction_id"]

Status = Literal["starting", "processing", "succeeded", "failed", "canceled"]
Delivery = Literal["sync", "async", "sse"]
"""How a prediction's answer reaches its creator: at the end, 202 at once, or as events."""
Event = tuple[str, Any]
TERMINAL: frozenset[str] = frozenset({"succeeded", "failed", "canceled"})
_NO_OUTPUT: Any = object()
_encoder = msgspec.json.Encoder()
_last_id = 0
_id_lock = threading.Lock()


def new_prediction_id() -> str:
    """``pred_`` + hex nanoseconds since the epoch, unique within the process."""
    global _last_id
    with _id_lock:
        _last_id = max(time.time_ns(), _last_id + 1)
        return f"pred_{_last_id:x}"


class Prediction:
    """The live record of one prediction or training."""

    def __init__(
        self,
        prediction_id: str,
        recorded_input: dict[str, Any],
        *,
        context: dict[str, str] | None = None,
        created_at: str | None = None,
        created_by: Delivery = "sync",
        training: bool = False,
        output_is_array: bool = False,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.id = prediction_id
        self.input = recorded_input
        self.created_by = created_by
        self.training = training
        self.status: Status = "starting"
        self.created_at = created_at or utc_now()
        self.started_at: str | None = None
        self.completed_at: str | None = None
        self.error: str | None = None
        self.predict_time: float | None = None
        self.cancel_requested = False
        self.guard = CancelGuard()
        self.task: asyncio.Task[None] | None = None
        self.in_thread = False
        self.queue_wait = 0.0
        """Seconds its request waited in the admission queue for a slot."""
        self._loop = loop
        self._loop_thread = threading.get_ident()
        # Phase boundaries in perf_counter seconds (None: never reached), for observers:
        # queue wait, input download (only with file inputs), predict, output upload.
        self.created_perf = time.perf_counter()
        self.run_perf: float | None = None
        self.download_perf: float | None = None
        self.predict_perf: float | None = None
        self.upload_perf: float | None = None
        self.finished_perf: float | None = None
        self.span: Any = None
        """The tracing observer's span of this prediction (``cogrt.telemetry.tracing``)."""
        self._output_is_array = output_is_array
        self._chunks: list[Any] = []
        self._final: Any = _NO_OUTPUT
        self._logs: list[str] = []
        self._listeners: list[Listener] = []
        self._done = asyncio.Event()
        self.scope = Scope(context, listener=self._on_metric)
        self.log_buffer = LineBuffer(self._on_log_text)
        self._pending_chunks: list[Any] = []
        self._chunk_lock = threading.Lock()
        self._flush_scheduled = False

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @property
    def logs(self) -> str:
        return "".join(self._logs)

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def wait(self) -> None:
        """Return once the prediction is terminal and its slot is already free."""
        await self._done.wait()

    def cancel(self) -> None:
        """Request cancel; the runtime's run task turns it into ``canceled``."""
        if self.done or self.cancel_requested:
            return
        self.cancel_requested = True
        self.guard.cancel()
        if self.task is not None and not self.in_thread:
            self.task.cancel()

    # -- transitions, on the loop ------------------------------------------------

    def mark_started(self) -> None:
        self.predict_perf = time.perf_counter()
        self.status = "processing"
        self.started_at = utc_now()
        if self._listeners:
            self._emit("start", {"id": self.id, "status": "processing"})

    def add_chunk(self, chunk: Any) -> None:
        index = len(self._chunks)
        self._chunks.append(chunk)
        if self._listeners:
            self._emit("output", {"chunk": chunk, "index": index})

    def set_result(self, value: Any, *, as_list: bool) -> None:
        """Record a returned (not yielded) value, already converted to JSON data."""
        items = value if as_list else [value]
        for item in items:
            self.add_chunk(item)
        self._final = value if as_list or not self._output_is_array else [value]

    def finish(self, status: Status, error: str | None = None) -> None:
        """Enter a terminal state; ``on_terminal`` hooks run before waiters wake."""
        self.flush_chunks()
        self.log_buffer.flush_all()
        self.status = status
        self.error = error if status == "failed" else None
        self.completed_at = utc_now()
        self.finished_perf = time.perf_counter()
        self.predict_time = self.finished_perf - self.created_perf

    def publish_completed(self) -> None:
        self._done.set()
        if self._listeners:
            self._emit("completed", self.snapshot())
            self._listeners.clear()
        # Break the reference cycles (scope and log buffer call back into this
        # object; the task's context holds both), so a finished prediction is
        # freed by reference counting instead of waiting for the cyclic GC.
        self.scope.detach()
        self.log_buffer.detach()
        self.task = None

    # -- thread-safe entry points -------------------------------------------------

    def push_chunk_threadsafe(self, chunk: Any, limit: int = 1024) -> None:
        """Queue a chunk from the worker thread; batches cross in one loop wake-up.

        Blocks the worker (backpressure) while ``limit`` chunks already wait.
        """
        while True:
            with self._chunk_lock:
                if len(self._pending_chunks) < limit:
                    self._pending_chunks.append(chunk)
                    if self._flush_scheduled:
                        return
                    self._flush_scheduled = True
                    break
            time.sleep(0.001)  # rare: the loop is 1024 chunks behind; a Condition per
            # prediction would cost every prediction, streaming or not
        self._loop.call_soon_threadsafe(self.flush_chunks)
        if not self._chunks:
            # Nothing published yet: hand the GIL to the loop right away, so
            # the first token goes out now. A generator producing flat out
            # otherwise keeps the GIL for whole switch intervals, several
            # times over, while the loop works its way to the first write
            # (time to first token over SSE: ~5-8 ms -> ~2 ms).
            time.sleep(0)

    def flush_chunks(self) -> None:
        with self._chunk_lock:
            pending, self._pending_chunks = self._pending_chunks, []
            self._flush_scheduled = False
        for chunk in pending:
            self.add_chunk(chunk)

    def append_log(self, text: str) -> None:
        self._logs.append(text)

    # -- the record -----------------------------------------------------------------

    def output(self) -> Any:
        """The ``output`` field: the returned value, or the list of yielded chunks.

        A succeeded prediction without a returned value streamed its output
        (``set_result`` is the only other way to succeed), so even an
        iterator that yielded nothing is a list, ``[]``, as in Cog. Before
        the end, or after a failure or cancel, no chunks is ``null``.
        """
        if self.status == "succeeded":
            return self._final if self._final is not _NO_OUTPUT else list(self._chunks)
        return list(self._chunks) if self._chunks else None

    def snapshot(self) -> dict[str, Any]:
        metrics = self.scope.snapshot()
        if self.predict_time is not None:
            metrics["predict_time"] = self.predict_time
        return {
            "id": self.id,
            "status": self.status,
            "input": self.input,
            "output": self.output(),
            "error": self.error,
            "logs": self.logs,
            "metrics": metrics,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "completed_at": self.completed_at,
        }

    def to_json(self) -> bytes:
        return _encoder.encode(self.snapshot())

    def _emit(self, event: str, data: Any) -> None:
        for listener in tuple(self._listeners):
            listener(event, data)

    def _on_log_text(self, source: str, text: str) -> None:
        if threading.get_ident() == self._loop_thread:
            self._log(source, text)
        else:
            try:
                self._loop.call_soon_threadsafe(self._log, source, text)
            except RuntimeError:  # loop closed: a stray thread logging after shutdown
                pass

    def _log(self, source: str, text: str) -> None:
        self._logs.append(text)
        self._emit("log", {"source": source, "data": text})

    def _on_metric(self, event: MetricEvent) -> None:
        key, value, mode = event
        data = {"name": key, "value": value, "mode": mode}
        if threading.get_ident() == self._loop_thread:
            self._emit("metric", data)
        else:
            self._loop.call_soon_threadsafe(self._emit, "metric", data)
