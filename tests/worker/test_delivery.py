"""Delivery guarantees under load and failure: many workers, kill -9, poison, cancel,
SIGTERM, and Redis itself going away. Real processes, real Redis; waits are bounded."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter
from pathlib import Path

import msgspec
import redis.asyncio as aioredis

import cogrt.queue
from cogrt.queue import keys
from tests.support.redis_server import RedisServer
from tests.support.worker_process import Workers

from .test_basics import pending, runs


async def until(check, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not reached before the deadline"
        await asyncio.sleep(0.02)


async def results(redis: aioredis.Redis, ids: list[str]) -> list[dict | None]:
    raw = await redis.mget([keys.result_key(i) for i in ids])
    return [None if r is None else msgspec.json.decode(r) for r in raw]


async def all_recorded(redis: aioredis.Redis, ids: list[str]) -> bool:
    return all(r is not None for r in await results(redis, ids))


async def test_three_workers_2000_messages_each_run_once(
    redis: aioredis.Redis, stream: str, pool: Workers, tmp_path: Path
):
    record = tmp_path / "runs"
    for _ in range(3):
        pool.start(wait=False)
    async with redis.pipeline(transaction=False) as pipe:
        ids = []
        for n in range(2000):
            ids.append(f"p{n}")
            fields = {
                "request": msgspec.json.encode(
                    {"id": f"p{n}", "input": {"n": n, "sleep": 0.001, "record": str(record)}}
                )
            }
            pipe.xadd(stream, fields)
        await pipe.execute()
    for worker in pool.started:
        worker.wait_for_output("reading stream")
    await until(lambda: all_recorded(redis, ids), timeout=120)
    recorded = await results(redis, ids)
    assert {r["status"] for r in recorded} == {"succeeded"}
    assert [r["output"] for r in recorded] == [f"done {n}" for n in range(2000)]
    counts = Counter(runs(record))
    assert sorted(counts) == list(range(2000))
    assert set(counts.values()) == {1}  # none lost, none run twice
    assert await pending(redis, stream) == 0
    assert await redis.xlen(stream) == 0
    busy = [w for w in pool.started if "reading stream" in w.output()]
    assert len(busy) == 3


async def test_kill_9_mid_prediction_is_reclaimed_and_completes_once(
    redis: aioredis.Redis, stream: str, pool: Workers, tmp_path: Path
):
    record, marker = tmp_path / "runs", tmp_path / "blocked"
    first = pool.start("--claim-after", "0.5")
    pid = await cogrt.queue.submit(
        redis, stream, {"n": 9, "record": str(record), "block_once": str(marker)}
    )
    await until(lambda: _exists(marker))
    first.process.send_signal(signal.SIGKILL)
    first.wait_exit()
    second = pool.start("--claim-after", "0.5")
    try:
        result = await cogrt.queue.result(redis, pid, timeout=10)
    except TimeoutError:
        print(second.output(), await redis.xpending_range(stream, "cogrt", "-", "+", 10))
        raise
    assert result["status"] == "succeeded"
    assert runs(record) == [9, 9]  # the killed run, then the one that completed
    assert await pending(redis, stream) == 0


async def test_poison_message_goes_to_dead_letter_after_max_deliveries(
    redis: aioredis.Redis, stream: str, pool: Workers, tmp_path: Path
):
    record = tmp_path / "runs"
    args = ("--claim-after", "0.3", "--max-deliveries", "2")
    pid = await cogrt.queue.submit(redis, stream, {"n": 4, "crash": True, "record": str(record)})
    for _ in range(2):  # each delivery kills its worker
        worker = pool.start(*args, wait=False)
        assert worker.wait_exit(60) == 3
    pool.start(*args)
    result = await cogrt.queue.result(redis, pid, timeout=60)
    assert result["status"] == "failed"
    assert "delivered 3 times, more than --max-deliveries 2" in result["error"]
    dead = await redis.xrange(keys.dead_stream(stream))
    assert len(dead) == 1
    letter = {k.decode(): v for k, v in dead[0][1].items()}
    assert msgspec.json.decode(letter["request"])["id"] == pid
    assert b"consumer w2 took it" in letter["error"]  # the last delivery's lease
    assert letter["deliveries"] == b"3"
    assert await pending(redis, stream) == 0
    assert runs(record) == [4, 4]


async def test_cancel_reaches_the_worker_holding_the_prediction(
    redis: aioredis.Redis, stream: str, pool: Workers
):
    pool.start()
    pool.start()
    pid = await cogrt.queue.submit(redis, stream, {"n": 1, "sleep": 3600})
    events = cogrt.queue.events(redis, pid, timeout=60)
    assert (await anext(events)).event == "start"
    await cogrt.queue.cancel(redis, pid)
    rest = [e async for e in events]
    assert rest[-1].prediction["status"] == "canceled"
    assert await pending(redis, stream) == 0
    queued = await cogrt.queue.submit(redis, stream, {"n": 2, "sleep": 3600}, id="later")
    await cogrt.queue.cancel(redis, "never-submitted")
    assert queued == "later"


async def test_cancel_before_pickup_cancels_without_running(
    redis: aioredis.Redis, stream: str, pool: Workers, tmp_path: Path
):
    record = tmp_path / "runs"
    await cogrt.queue.cancel(redis, "early")
    await cogrt.queue.submit(redis, stream, {"n": 3, "record": str(record)}, id="early")
    pool.start()
    result = await cogrt.queue.result(redis, "early", timeout=60)
    assert result["status"] == "canceled"
    assert runs(record) == []


async def test_sigterm_finishes_in_flight_work_then_exits_0(
    redis: aioredis.Redis, stream: str, pool: Workers, tmp_path: Path
):
    marker, go = tmp_path / "started", tmp_path / "go"
    worker = pool.start()
    pid = await cogrt.queue.submit(
        redis, stream, {"n": 1, "record": str(marker), "wait_for": str(go)}
    )
    await until(lambda: _exists(marker))
    worker.process.send_signal(signal.SIGTERM)
    worker.wait_for_output("stopped reading; 1 predictions in flight")
    later = await cogrt.queue.submit(redis, stream, {"n": 2})
    go.touch()  # the in-flight prediction ends only now, after reading stopped
    assert worker.wait_exit() == 0
    assert (await cogrt.queue.result(redis, pid))["status"] == "succeeded"
    assert await redis.get(keys.result_key(later)) is None  # not read: left for others
    assert await redis.xlen(stream) == 1


async def test_sigterm_past_the_grace_period_leaves_the_message_pending(
    redis: aioredis.Redis, stream: str, pool: Workers, tmp_path: Path
):
    record, marker = tmp_path / "runs", tmp_path / "blocked"
    worker = pool.start("--grace-period", "0.2", "--claim-after", "0.5")
    pid = await cogrt.queue.submit(
        redis, stream, {"n": 8, "record": str(record), "block_once": str(marker)}
    )
    await until(lambda: _exists(marker))
    worker.process.send_signal(signal.SIGTERM)
    assert worker.wait_exit() == 0
    assert "left pending" in worker.output()
    assert await redis.get(keys.result_key(pid)) is None
    assert await pending(redis, stream) == 1
    pool.start("--claim-after", "0.5")
    assert (await cogrt.queue.result(redis, pid, timeout=60))["status"] == "succeeded"
    assert runs(record) == [8, 8]


async def test_redis_restart_mid_run_loses_nothing(
    redis_server: RedisServer, stream: str, pool: Workers, tmp_path: Path
):
    record = tmp_path / "runs"
    # No reclaim within the test: what a worker was delivered as Redis went down (a
    # reply it never got) must come back from its own pending list, not a takeover.
    pool.start("--claim-after", "600")
    pool.start("--claim-after", "600")
    client = aioredis.Redis.from_url(redis_server.url)
    ids = [
        await cogrt.queue.submit(client, stream, {"n": n, "sleep": 0.05, "record": str(record)})
        for n in range(300)
    ]
    await until(lambda: _exists(record))
    await client.aclose()
    redis_server.stop()
    redis_server.start()
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        await until(lambda: all_recorded(client, ids), timeout=120)
        assert {r["status"] for r in await results(client, ids)} == {"succeeded"}
        assert sorted(set(runs(record))) == list(range(300))  # a run cut off may run again
        assert await pending(client, stream) == 0
    finally:
        await client.aclose()
    for worker in pool.started:
        assert "Redis unreachable" in worker.output()
        assert "Redis reachable again" in worker.output()


async def _exists(path: Path) -> bool:
    return path.exists()
