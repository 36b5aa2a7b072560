"""The cancel listener: ``cogrt:cancel`` pub/sub messages to whichever worker holds the id.

Every worker subscribes; each message is one prediction id, and only the
worker holding it acts. A prediction not picked up yet is covered by the
cancel key the client sets before publishing (``cogrt.queue.cancel``): the
pickup checks it, so a cancel is never lost between the two.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from cogrt.queue import keys
from cogrt.queue.message import text
from cogrt.worker.connection import OUTAGE, Backoff

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["CancelListener"]


class CancelListener:
    """Subscribes (again after every lost connection) and calls ``on_cancel(id)``."""

    def __init__(self, redis: Redis, on_cancel: Callable[[str], object]) -> None:
        self._redis = redis
        self._on_cancel = on_cancel
        self.subscribed = asyncio.Event()

    async def run(self) -> None:
        backoff = Backoff("cancel listener")
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(keys.CANCEL_CHANNEL)
                self.subscribed.set()
                backoff.succeeded()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._on_cancel(text(message["data"]))
            except OUTAGE as exc:
                self.subscribed.clear()
                await backoff.failed(exc)
            finally:
                with contextlib.suppress(*OUTAGE):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
