"""The queue worker end to end: a real Redis, real ``python -m cogrt worker`` processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import msgspec
import redis.asyncio as aioredis

import cogrt.queue
from cogrt.queue import keys
from tests.support.worker_process import Workers


async def pending(redis: aioredis.Redis, stream: str) -> int:
    summary = await redis.xpending(stream, "cogrt")
    return int(summary["pending"])


def runs(record: Path) -> list[int]:
    return [int(line) for line in record.read_text().split()] if record.exists() else []


async def test_prediction_round_trip_with_events(redis: aioredis.Redis, stream: str, pool: Workers):
    pool.start(ref="models.py:Stream")
    pid = await cogrt.queue.submit(redis, stream, {"count": 3})
    events = [e async for e in cogrt.queue.events(redis, pid, timeout=30)]
    names = [e.event for e in events]
    assert names[0] == "start" and names[-1] == "completed"
    assert "output" in names and "logs" in names
    final = events[-1].prediction
    assert final["status"] == "succeeded"
    assert final["output"] == ["t0", "t1", "t2"]
    assert "token 2" in final["logs"]
    assert await cogrt.queue.result(redis, pid) == final
    assert await pending(redis, stream) == 0
    assert await redis.xlen(stream) == 0  # acknowledged and deleted
    assert 0 < await redis.ttl(keys.result_key(pid)) <= 24 * 3600


async def test_invalid_input_fails_once_and_is_not_retried(
    redis: aioredis.Redis, stream: str, pool: Workers, tmp_path: Path
):
    record = tmp_path / "runs"
    pool.start("--claim-after", "0.2")
    bad = await cogrt.queue.submit(redis, stream, {"n": "seven", "record": str(record)})
    result = await cogrt.queue.result(redis, bad, timeout=30)
    assert result["status"] == "failed"
    assert "n" in result["error"]
    await redis.xadd(stream, {"request": b"{not json", "kind": "prediction"})
    good = await cogrt.queue.submit(redis, stream, {"n": 1, "record": str(record)})
    assert (await cogrt.queue.result(redis, good, timeout=30))["status"] == "succeeded"
    garbled = [k async for k in redis.scan_iter(match=f"{keys.PREFIX}pred_*_*:result")]
    assert len(garbled) >= 1  # the non-JSON message has a result under an id from its entry id
    assert await pending(redis, stream) == 0
    assert runs(record) == [1]


async def test_a_recorded_prediction_id_is_never_run_again(
    redis: aioredis.Redis, stream: str, pool: Workers, tmp_path: Path
):
    record = tmp_path / "runs"
    pool.start()
    first = await cogrt.queue.submit(redis, stream, {"n": 5, "record": str(record)}, id="same")
    before = await cogrt.queue.result(redis, first, timeout=30)
    await cogrt.queue.submit(redis, stream, {"n": 6, "record": str(record)}, id="same")
    marker = await cogrt.queue.submit(redis, stream, {"n": 7, "record": str(record)})
    await cogrt.queue.result(redis, marker, timeout=30)
    await asyncio.wait_for(_until_pending(redis, stream, 0), 30)
    assert sorted(runs(record)) == [5, 7]
    assert await cogrt.queue.result(redis, "same") == before


async def test_training_message_runs_the_trainer(redis: aioredis.Redis, stream: str, pool: Workers):
    pool.start()  # no separate `train:`: the predictor serves trainings too
    pid = await cogrt.queue.submit(redis, stream, {"n": 2}, training=True)
    result = await cogrt.queue.result(redis, pid, timeout=30)
    assert result["status"] == "succeeded" and result["output"] == "done 2"


async def test_setup_failure_exits_nonzero_without_reading(
    redis: aioredis.Redis, stream: str, pool: Workers
):
    await cogrt.queue.submit(redis, stream, {"n": 1})
    worker = pool.start(ref="models.py:SetupFails", wait=False)
    assert worker.wait_exit() == 1
    assert "weights missing" in worker.output()
    assert await redis.xlen(stream) == 1
    assert await redis.execute_command("XINFO", "GROUPS", stream) == []  # never even joined


async def test_health_port_serves_the_runtime_health(
    redis: aioredis.Redis, stream: str, pool: Workers
):
    worker = pool.start("--port", "0", "--host", "127.0.0.1")
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{worker.health_port()}/health-check")
        missing = await client.get(f"http://127.0.0.1:{worker.health_port()}/predictions")
    assert response.status_code == 200
    body = msgspec.json.decode(response.content)
    assert body["status"] == "READY"
    assert body["setup"]["status"] == "succeeded"
    assert missing.status_code == 404


async def _until_pending(redis: aioredis.Redis, stream: str, wanted: int) -> None:
    while await pending(redis, stream) != wanted or await redis.xlen(stream) != wanted:
        await asyncio.sleep(0.01)


async def test_a_message_without_a_request_field_fails_once(
    redis: aioredis.Redis, stream: str, pool: Workers
):
    pool.start()
    entry = await redis.xadd(stream, {"payload": b"{}"})
    pid = "pred_" + entry.decode().replace("-", "_")
    result = await cogrt.queue.result(redis, pid, timeout=30)
    assert result["status"] == "failed"
    assert "no `request` field" in result["error"]
    assert await pending(redis, stream) == 0


def test_worker_without_redis_is_a_clear_error(monkeypatch, capfd):
    from cogrt.cli import main

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.chdir(Path(__file__).parent / "predictors")
    assert main(["worker", "--stream", "jobs"]) == 1
    assert "no Redis: pass --redis" in capfd.readouterr().err


async def test_webhook_gets_the_events_and_the_stream_only_completed(
    redis: aioredis.Redis, stream: str, pool: Workers
):
    from tests.support.webhook_receiver import Receiver

    pool.start(ref="models.py:Stream")
    async with Receiver() as receiver:
        pid = await cogrt.queue.submit(redis, stream, {"count": 2}, webhook=receiver.url)
        await receiver.wait_for(lambda hooks: any(hook.terminal for hook in hooks), timeout=30)
        events = [e async for e in cogrt.queue.events(redis, pid, timeout=30)]
    assert receiver.terminal()[0].payload["output"] == ["t0", "t1"]
    assert [e.event for e in events] == ["completed"]
    assert events[0].prediction["output"] == ["t0", "t1"]


async def test_a_deleted_group_is_created_again_and_results_keep_flowing(
    redis: aioredis.Redis, stream: str, pool: Workers
):
    pool.start()
    first = await cogrt.queue.submit(redis, stream, {"n": 1, "sleep": 2})
    events = cogrt.queue.events(redis, first, timeout=30)
    assert (await anext(events)).event == "start"
    await redis.xgroup_destroy(stream, "cogrt")  # its in-flight message can no longer be acked
    assert [e async for e in events][-1].prediction["status"] == "succeeded"
    second = await cogrt.queue.submit(redis, stream, {"n": 2})
    assert (await cogrt.queue.result(redis, second, timeout=30))["output"] == "done 2"


async def test_a_refused_write_does_not_stop_later_results(
    redis: aioredis.Redis, stream: str, pool: Workers
):
    pool.start()
    await redis.set(keys.events_key("clobbered"), b"not a stream")  # XADD there is refused
    await cogrt.queue.submit(redis, stream, {"n": 1}, id="clobbered")
    await asyncio.wait_for(_until_logged(pool, "Redis refused a write"), 30)
    later = await cogrt.queue.submit(redis, stream, {"n": 2})
    assert (await cogrt.queue.result(redis, later, timeout=30))["output"] == "done 2"


async def _until_logged(pool: Workers, text: str) -> None:
    while text not in pool.started[0].output():
        await asyncio.sleep(0.01)
