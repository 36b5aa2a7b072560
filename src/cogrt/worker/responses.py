"""Response publishing: every Redis write about a prediction, in order, batched, retried.

One task writes for the whole worker. Whatever accumulated since its last
write goes in one pipeline: the events of many predictions, and terminal
records, each one Lua script (``_FINISH``) that records the result and
acknowledges its messages together. A single writer keeps each prediction's events in order.
When the writer falls behind, consecutive ``output`` (or ``logs``) events of
one prediction merge into the newest one, which carries the whole state, and
a terminal record absorbs the ``output``/``logs`` events still waiting before
it (a returned value's one ``output`` event is never written apart from its
``completed``, which holds it).
A lost connection keeps the batch and retries it until Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cogrt.queue import keys
from cogrt.worker.connection import OUTAGE, Backoff

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

    from cogrt.worker.options import WorkerOptions

__all__ = ["ResponsePublisher"]

log = logging.getLogger("cogrt.worker")

_MERGEABLE = frozenset({"output", "logs"})
_FINISH = """
local ttl = tonumber(ARGV[1])
redis.call('SET', KEYS[1], ARGV[3], 'EX', ttl)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*',
  'event', 'completed', 'prediction', ARGV[3])
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('DEL', KEYS[3])
for i = 5, #ARGV do
  redis.call('XACK', KEYS[4], ARGV[4], ARGV[i])
  redis.call('XDEL', KEYS[4], ARGV[i])
end
return 1
"""
"""A terminal record in one step: the result, the ``completed`` event, the response
stream's TTL, the lease gone, the messages acknowledged and deleted. Atomic, so a
message is acknowledged exactly when its result is recorded; and one command instead
of six (redis-py's per-command cost was most of a worker's time per prediction)."""


@dataclass
class _Event:
    prediction_id: str
    event: str
    body: bytes
    dropped: bool = False


@dataclass
class _Terminal:
    prediction_id: str | None
    """None: acknowledge only (a redelivered message whose result is already recorded)."""
    body: bytes | None
    message_ids: list[str]
    done: asyncio.Future[None]
    dead_letter: dict[str, bytes | str] | None = None


@dataclass
class _Pending:
    items: list[_Event | _Terminal] = field(default_factory=list)
    last_event: dict[str, int] = field(default_factory=dict)
    mergeable: dict[str, list[_Event]] = field(default_factory=dict)


class ResponsePublisher:
    """Queues writes from the loop (never blocking it) and performs them from one task."""

    def __init__(self, redis: Redis, options: WorkerOptions) -> None:
        self._redis = redis
        self._options = options
        self._ttl = max(1, int(options.result_ttl))
        self._pending = _Pending()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._writing = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    def event(self, prediction_id: str, event: str, body: bytes) -> None:
        """Queue one event of a prediction for its response stream."""
        pending = self._pending
        index = pending.last_event.get(prediction_id)
        if index is not None and event in _MERGEABLE:
            previous = pending.items[index]
            if isinstance(previous, _Event) and previous.event == event:
                previous.body = body  # the newer snapshot holds everything the older one did
                return
        pending.last_event[prediction_id] = len(pending.items)
        item = _Event(prediction_id, event, body)
        pending.items.append(item)
        if event in _MERGEABLE:
            pending.mergeable.setdefault(prediction_id, []).append(item)
        self._wake.set()

    def finish(
        self,
        prediction_id: str | None,
        body: bytes | None,
        message_ids: list[str],
        *,
        dead_letter: dict[str, bytes | str] | None = None,
    ) -> asyncio.Future[None]:
        """Record a terminal result and acknowledge its messages; resolves once done."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        item = _Terminal(prediction_id, body, list(message_ids), done, dead_letter)
        self._pending.items.append(item)
        if prediction_id is not None:
            self._pending.last_event.pop(prediction_id, None)
            # Output and logs not written yet are in the result: `completed` carries them.
            for merged in self._pending.mergeable.pop(prediction_id, ()):
                merged.dropped = True
        self._wake.set()
        return done

    async def aclose(self, timeout: float) -> None:
        """Write what is queued (within ``timeout``), then stop."""
        if self._task is None:
            return
        deadline = asyncio.get_running_loop().time() + timeout
        while self._pending.items or self._writing:
            if asyncio.get_running_loop().time() >= deadline:
                break
            await asyncio.sleep(0.01)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        backoff = Backoff("publishing results")
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending.items, _Pending()
            self._writing = True
            while True:
                try:
                    await self._write(batch)
                except OUTAGE as exc:
                    await backoff.failed(exc)
                    continue
                backoff.succeeded()
                break
            for item in batch:
                if isinstance(item, _Terminal) and not item.done.done():
                    item.done.set_result(None)
            self._writing = False

    async def _write(self, batch: list[_Event | _Terminal]) -> None:
        options = self._options
        async with self._redis.pipeline(transaction=False) as pipe:
            for item in batch:
                if isinstance(item, _Event):
                    if not item.dropped:
                        self._append(pipe, item.prediction_id, item.event, item.body)
                    continue
                if item.dead_letter is not None:
                    pipe.xadd(keys.dead_stream(options.stream), item.dead_letter)  # type: ignore[arg-type]
                if item.prediction_id is not None and item.body is not None:
                    pid = item.prediction_id
                    # EVAL, not EVALSHA: redis-py's pipelined scripts cost a SCRIPT EXISTS
                    # round trip per pipeline, and a restarted Redis forgets loaded scripts.
                    pipe.eval(
                        _FINISH,
                        4,
                        keys.result_key(pid),
                        keys.events_key(pid),
                        keys.lease_key(pid),
                        options.stream,
                        self._ttl,
                        options.events_maxlen,
                        item.body,
                        options.group,
                        *item.message_ids,
                    )
                elif item.message_ids:
                    pipe.xack(options.stream, options.group, *item.message_ids)
                    pipe.xdel(options.stream, *item.message_ids)
            replies = await pipe.execute(raise_on_error=False)
        for reply in replies:
            # Redis refused one command (its group deleted, a key of the wrong type): the
            # rest of the batch is written; one refusal must not stop every later result.
            if isinstance(reply, Exception) and not isinstance(reply, OUTAGE):
                log.error("Redis refused a write: %s", reply)
            elif isinstance(reply, Exception):
                raise reply

    def _append(self, pipe: Pipeline, prediction_id: str, event: str, body: bytes) -> None:
        pipe.xadd(
            keys.events_key(prediction_id),
            {"event": event, "prediction": body},
            maxlen=self._options.events_maxlen,
            approximate=True,
        )
