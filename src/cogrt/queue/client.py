"""Client helpers: enqueue a prediction, follow its events, read its result, cancel it.

    import redis.asyncio as redis
    import cogrt.queue

    r = redis.Redis()
    pid = await cogrt.queue.submit(r, "predictions", {"prompt": "hi"})
    result = await cogrt.queue.result(r, pid, timeout=60)

This module imports only redis-py and msgspec (never the runtime): an
application that enqueues work does not load a model's dependencies.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import msgspec

from cogrt.queue import keys
from cogrt.queue.message import Kind, QueueEvent, decode_event, encode_request

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["cancel", "events", "result", "submit"]

CANCEL_TTL = 24 * 3600
"""How long a cancel request waits for a prediction still in the stream (seconds)."""
_POLL_MS = 1000


async def submit(
    redis: Redis,
    stream: str,
    input: dict[str, Any],
    *,
    id: str | None = None,
    webhook: str | None = None,
    webhook_events_filter: list[str] | None = None,
    training: bool = False,
    maxlen: int | None = None,
) -> str:
    """Enqueue one prediction (or training) on ``stream``; returns its id.

    Pass ``id`` to make a retried submit idempotent: a worker never runs an
    id whose result is already recorded. ``maxlen`` caps the stream
    (approximately, Redis's ``MAXLEN ~``); by default it is not trimmed.
    """
    prediction_id = id or f"pred_{uuid.uuid4().hex}"
    kind: Kind = "training" if training else "prediction"
    fields = encode_request(
        prediction_id,
        input,
        webhook=webhook,
        webhook_events_filter=webhook_events_filter,
        kind=kind,
    )
    await redis.xadd(stream, fields, maxlen=maxlen, approximate=True)  # type: ignore[arg-type]
    return prediction_id


async def cancel(redis: Redis, prediction_id: str) -> None:
    """Cancel a prediction wherever it is: running on some worker, or still in the stream.

    The key makes a worker that picks the message up later cancel it at once;
    the publish reaches the worker running it now.
    """
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(keys.cancel_key(prediction_id), b"1", ex=CANCEL_TTL)
        pipe.publish(keys.CANCEL_CHANNEL, prediction_id)
        await pipe.execute()


async def events(
    redis: Redis, prediction_id: str, *, timeout: float | None = None
) -> AsyncIterator[QueueEvent]:
    """Every event of the prediction from its first, ending with ``completed``.

    Raises ``TimeoutError`` if ``completed`` has not come within ``timeout``
    seconds. A prediction with a webhook has only its ``completed`` event here.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    stream = keys.events_key(prediction_id)
    last = "0-0"
    while True:
        block = _POLL_MS
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"prediction {prediction_id} did not complete in {timeout} s")
            block = max(1, min(block, int(left * 1000)))
        reply: Any = await redis.xread({stream: last}, block=block)
        if not reply:
            recorded = await redis.get(keys.result_key(prediction_id))
            if recorded is not None:  # the response stream expired, or was never written
                yield QueueEvent("completed", msgspec.json.decode(recorded))
                return
            continue
        for entry_id, fields in reply[0][1]:
            last = entry_id
            event = decode_event(fields)
            yield event
            if event.terminal:
                return


async def result(
    redis: Redis, prediction_id: str, *, timeout: float | None = None
) -> dict[str, Any]:
    """The terminal prediction JSON, waiting for it up to ``timeout`` seconds."""
    recorded = await redis.get(keys.result_key(prediction_id))
    if recorded is not None:
        decoded: dict[str, Any] = msgspec.json.decode(recorded)
        return decoded
    final: QueueEvent | None = None
    async for event in events(redis, prediction_id, timeout=timeout):
        final = event
    assert final is not None  # events() ends with `completed` or raises
    return final.prediction
