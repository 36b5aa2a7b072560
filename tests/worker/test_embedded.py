"""The embeddable API: a ``QueueWorker`` over a ``Runtime`` in the caller's own loop."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis

import cogrt.queue
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
