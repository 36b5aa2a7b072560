"""The embeddable API: a ``QueueWorker`` over a ``Runtime`` in the caller's own loop."""

from __future__ import annotations

import asyncio
import gc

import redis.asyncio as aioredis

import cogrt.queue
from cogrt.runner.gc_tuning import MANY_SLOTS_GC_THRESHOLD
from cogrt.runner.runtime import Runtime
from cogrt.worker import QueueWorker, WorkerOptions
from tests.support.redis_server import RedisServer
from tests.support.worker_process import PREDICTORS


async def test_queue_worker_in_process_serves_and_stops(
    redis_server: RedisServer, redis: aioredis.Redis, stream: str
):
    options = WorkerOptions(redis_server.url, stream, consumer="embedded", grace_period=5)
    async with Runtime(f"{PREDICTORS / 'models.py'}:Async", concurrency=4) as runtime:
        worker = QueueWorker(runtime, options, signals=False)
        running = asyncio.create_task(worker.run())
        ids = [await cogrt.queue.submit(redis, stream, {"n": n}) for n in range(10)]
        outputs = [(await cogrt.queue.result(redis, i, timeout=30))["output"] for i in ids]
        worker.stop()
        assert await asyncio.wait_for(running, 30) == 0
    assert outputs == [f"done {n}" for n in range(10)]
    consumers = await redis.xinfo_consumers(stream, "cogrt")
    assert [c["name"] for c in consumers] == [b"embedded"]


async def _gc_after_serving(
    redis_server: RedisServer, redis: aioredis.Redis, stream: str, *, tune_gc: bool
) -> tuple[int, tuple[int, int, int]]:
    """(objects frozen, thresholds) while a 4-slot worker serves; the process state restored."""
    gc.unfreeze()
    saved = gc.get_threshold()
    options = WorkerOptions(redis_server.url, stream, grace_period=5)
    try:
        async with Runtime(f"{PREDICTORS / 'models.py'}:Async", concurrency=4) as runtime:
            worker = QueueWorker(runtime, options, signals=False, tune_gc=tune_gc)
            running = asyncio.create_task(worker.run())
            pid = await cogrt.queue.submit(redis, stream, {"n": 1})
            await cogrt.queue.result(redis, pid, timeout=30)  # served: setup was over
            state = gc.get_freeze_count(), gc.get_threshold()
            worker.stop()
            assert await asyncio.wait_for(running, 30) == 0
        return state
    finally:
        gc.unfreeze()
        gc.set_threshold(*saved)


async def test_a_worker_that_owns_its_process_tunes_the_collector_like_serve(
    redis_server: RedisServer, redis: aioredis.Redis, stream: str
):
    frozen, threshold = await _gc_after_serving(redis_server, redis, stream, tune_gc=True)
    assert frozen > 0
    assert threshold == MANY_SLOTS_GC_THRESHOLD


async def test_an_embedded_worker_leaves_the_collector_alone(
    redis_server: RedisServer, redis: aioredis.Redis, stream: str
):
    before = gc.get_threshold()
    frozen, threshold = await _gc_after_serving(redis_server, redis, stream, tune_gc=False)
    assert frozen == 0
    assert threshold == before
