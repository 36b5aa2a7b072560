"""Reading the stream: new messages, reclaimed ones, and keeping our own alive.

- New messages: ``XREADGROUP ... >`` for exactly as many as there are free slots.
- Reclaim: ``XAUTOCLAIM`` takes messages pending longer than ``--claim-after``
  (their consumer died, or lost Redis), at start and every half of it; one
  delivered more than ``--max-deliveries`` times is dead-lettered instead.
- Refresh: a live worker re-claims its own in-flight messages (``XCLAIM`` to
  itself, ``JUSTID``, which resets their idle time and not their delivery
  count) every third of ``--claim-after``, so a long prediction is never
  taken from a worker that is still running it. A Lua script does it only
  for messages still pending under this consumer: a worker that stalled
  longer than ``--claim-after`` must not take back what another reclaimed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from cogrt.queue.message import text
from cogrt.worker.connection import OUTAGE, Backoff

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from cogrt.worker.jobs import Jobs
    from cogrt.worker.ledger import Ledger
    from cogrt.worker.options import WorkerOptions

__all__ = ["Intake"]

log = logging.getLogger("cogrt.worker")

_REFRESH = """
local claimed = 0
for i = 3, #ARGV do
  local entry = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)[1]
  if entry and entry[2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
    claimed = claimed + 1
  end
end
return claimed
"""


class Intake:
    def __init__(self, redis: Redis, options: WorkerOptions, ledger: Ledger, jobs: Jobs) -> None:
        self._redis = redis
        self._options = options
        self._ledger = ledger
        self._jobs = jobs
        self._refresh = redis.register_script(_REFRESH)
        self._cursor = "0-0"

    async def ensure_group(self, stopping: asyncio.Event) -> bool:
        """Create the stream and group if missing (from the stream's start: nothing queued
        before the first worker is skipped). False if stopped before Redis answered."""
        from redis.exceptions import ResponseError

        backoff = Backoff("creating the consumer group")
        while not stopping.is_set():
            try:
                await self._redis.xgroup_create(
                    self._options.stream, self._options.group, id="0", mkstream=True
                )
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            except OUTAGE as exc:
                await backoff.failed(exc)
                continue
            backoff.succeeded()
            return True
        return False

    async def run(self, stopping: asyncio.Event) -> None:
        """Reclaim (at start, then every half of ``--claim-after``) and read new messages
        into free slots, until ``stopping`` is set. One loop does both, so a blocked read
        never holds the slots a reclaim needs; a read blocks only until the next reclaim."""
        from redis.exceptions import ResponseError

        options = self._options
        ledger = self._ledger
        loop = asyncio.get_running_loop()
        period = max(options.claim_after / 2.0, 0.05)
        next_reclaim = loop.time()
        backoff = Backoff("reading the stream")
        lost_reply = False
        while not stopping.is_set():
            try:
                if lost_reply:  # Redis may have delivered what never reached us
                    await self._read_own_pending()
                    lost_reply = False
                if loop.time() >= next_reclaim:
                    await self.reclaim_once()
                    next_reclaim = loop.time() + period
                count = ledger.free()
                if count == 0:
                    wait = next_reclaim - loop.time()
                    await _first(ledger.changed(), stopping.wait(), asyncio.sleep(wait))
                    continue
                block = max(1, min(options.block_ms, int((next_reclaim - loop.time()) * 1000)))
                await self._read_unless_stopped(count, block, stopping)
            except OUTAGE as exc:
                lost_reply = True
                await backoff.failed(exc)
                continue
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):  # the stream was deleted, or Redis lost its data
                    raise
                log.warning("consumer group %s is gone; creating it again", options.group)
                await self.ensure_group(stopping)
                continue
            backoff.succeeded()

    async def _read_unless_stopped(self, count: int, block: int, stopping: asyncio.Event) -> None:
        """A stop ends a blocked read at once. Should Redis have delivered a message to
        it in that instant, it is in this consumer's pending list: read it back from there."""
        read = asyncio.ensure_future(self._read(count, block))
        stop = asyncio.ensure_future(stopping.wait())
        try:
            await asyncio.wait([read, stop], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if read.done():
            read.result()
            return
        read.cancel()
        await asyncio.gather(read, return_exceptions=True)
        await self._read_own_pending()

    async def _read_own_pending(self) -> None:
        """Take back messages pending under this consumer that it does not hold: delivered
        by a read whose reply was lost (a stop, a dropped connection). Redis keeps them in
        this consumer's pending list, where ``XREADGROUP ... 0`` reads them again."""
        options = self._options
        held = set(self._ledger.message_ids())
        reply: Any = await self._redis.xreadgroup(
            options.group,
            options.consumer,
            {options.stream: "0"},
            count=len(held) + self._ledger.free() + 1,
        )
        found = [
            (text(message_id), fields)
            for _stream, entries in reply or ()
            for message_id, fields in entries
            if fields and text(message_id) not in held
        ]
        deliveries = await self._deliveries([message_id for message_id, _ in found])
        for message_id, fields in found:
            if self._ledger.free() == 0:
                break
            times = deliveries.get(message_id, 2)
            dead = times > options.max_deliveries
            self._jobs.take(message_id, fields, delivery=times, dead=dead)

    async def _read(self, count: int, block: int) -> None:
        options = self._options
        self._ledger.reserved += count
        try:
            reply: Any = await self._redis.xreadgroup(
                options.group, options.consumer, {options.stream: ">"}, count=count, block=block
            )
        finally:
            self._ledger.reserved -= count
        for _stream, entries in reply or ():
            for message_id, fields in entries:
                self._jobs.take(text(message_id), fields)

    async def reclaim_once(self) -> int:
        """Take messages idle past ``--claim-after`` into free slots; returns how many."""
        options = self._options
        ledger = self._ledger
        count = ledger.free()
        if count == 0:
            return 0
        ledger.reserved += count
        try:
            claimed: Any = await self._redis.xautoclaim(
                options.stream,
                options.group,
                options.consumer,
                min_idle_time=int(options.claim_after * 1000),
                start_id=self._cursor,
                count=count,
            )
            self._cursor = text(claimed[0])
            entries = [(text(mid), fields) for mid, fields in claimed[1] if fields is not None]
            deliveries = await self._deliveries([mid for mid, _ in entries])
        finally:
            ledger.reserved -= count
        for message_id, fields in entries:
            times = deliveries.get(message_id, 2)
            log.info("reclaimed message %s (delivery %d)", message_id, times)
            self._jobs.take(message_id, fields, delivery=times, dead=times > options.max_deliveries)
        return len(entries)

    async def _deliveries(self, message_ids: list[str]) -> dict[str, int]:
        if not message_ids:
            return {}
        options = self._options
        async with self._redis.pipeline(transaction=False) as pipe:
            for message_id in message_ids:
                pipe.xpending_range(options.stream, options.group, message_id, message_id, 1)
            replies = await pipe.execute()
        counts: dict[str, int] = {}
        for reply in replies:
            for entry in reply:
                counts[text(entry["message_id"])] = int(entry["times_delivered"])
        return counts

    async def refresh_loop(self) -> None:
        """Keep this worker's in-flight messages from looking abandoned (runs until cancelled)."""
        from redis.exceptions import ResponseError

        options = self._options
        while True:
            await asyncio.sleep(options.refresh_every)
            message_ids = self._ledger.message_ids()
            if not message_ids:
                continue
            try:
                await self._refresh(
                    keys=[options.stream], args=[options.group, options.consumer, *message_ids]
                )
            except OUTAGE as exc:
                log.debug("refreshing pending messages failed: %s", exc)
            except ResponseError as exc:  # the group is gone: the reader recreates it
                log.warning("refreshing pending messages failed: %s", exc)


async def _first(*waits: Any) -> None:
    """Wait for whichever of ``waits`` finishes first; cancel the others."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
