"""Pickup checks, many messages to one round trip.

Before running a message the worker asks Redis: is a result recorded
already (then it only acknowledges: idempotent by prediction id), and was a
cancel requested while it waited? One ``MGET`` answers both. A reclaimed
message also swaps its lease (``SET ... GET``): who takes it now, and who
took it last, the "last error" if it ends up dead-lettered.

The messages of one read start in the same loop step, so their checks queue
up before the flush task runs and travel in one pipeline.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cogrt.queue import keys
from cogrt.queue.message import text
from cogrt.worker.connection import OUTAGE, Backoff

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Pickup", "Pickups"]


@dataclass(frozen=True)
class Pickup:
    recorded: bool
    canceled: bool
    previous_lease: str | None


class Pickups:
    def __init__(self, redis: Redis, lease_ttl: int) -> None:
        self._redis = redis
        self._lease_ttl = lease_ttl
        self._waiting: list[tuple[str, str | None, asyncio.Future[Pickup]]] = []
        self._flusher: asyncio.Task[None] | None = None

    def check(self, prediction_id: str, lease: str | None) -> asyncio.Future[Pickup]:
        """Queue one check; ``lease`` (for reclaimed messages) is written, the old one read."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Pickup] = loop.create_future()
        if not self._waiting:
            self._flusher = loop.create_task(self._flush())
        self._waiting.append((prediction_id, lease, future))
        return future

    async def _flush(self) -> None:
        batch, self._waiting = self._waiting, []
        backoff = Backoff("picking up messages")
        while True:
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for prediction_id, lease, _ in batch:
                        pipe.mget(keys.result_key(prediction_id), keys.cancel_key(prediction_id))
                        if lease is not None:
                            lease_key = keys.lease_key(prediction_id)
                            pipe.set(lease_key, lease, ex=self._lease_ttl, get=True)
                    replies = iter(await pipe.execute())
            except OUTAGE as exc:
                await backoff.failed(exc)
                continue
            except Exception as exc:
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                return
            break
        backoff.succeeded()
        for _, lease, future in batch:
            recorded, canceled = next(replies)
            previous = next(replies) if lease is not None else None
            if not future.done():
                future.set_result(
                    Pickup(
                        recorded is not None,
                        canceled is not None,
                        None if previous is None else text(previous),
                    )
                )
