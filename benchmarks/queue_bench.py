"""Queue worker throughput and latency, beside the HTTP path on the same model (not CI).

    python benchmarks/queue_bench.py --duration 10 --rounds 2

For each round, each model (``async``: 50 ms ``asyncio.sleep``, ``concurrency.max``
250; ``echo``: sync, one slot), interleaved so shared-machine noise hits every
variant alike: the HTTP path (``python -m cogrt --no-supervise --http uvicorn``
under wrk, one connection per slot) and 1, 2 and 4 ``python -m cogrt worker``
processes on one local ``redis-server`` (``appendonly yes``).

Queue load is closed-loop like wrk's: the client keeps ``outstanding`` messages
in the stream (acknowledged messages are deleted, so ``XLEN`` is the number
not finished yet), topping up every 5 ms. Latency is enqueue -> completed: the
message id's millisecond timestamp (Redis's clock) to the result's
``completed_at`` (the worker's clock: the same machine). Throughput counts
results completed inside the measured window.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import msgspec
import redis.asyncio as aioredis

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import run_wrk
from procstats import tree_cpu_seconds
from servers import free_port

MODELS = Path(__file__).resolve().parent / "models"
VARIANTS = {
    "async": ("async_sleep", 250, '{"input":{"sleep_ms":50}}', {"sleep_ms": 50}),
    "echo": ("echo", 1, '{"input":{"text":"hi"}}', {"text": "hi"}),
}


def model_dir(root: Path, name: str) -> Path:
    source, slots, _, _ = VARIANTS[name]
    target = root / name
    shutil.copytree(MODELS / source, target)
    concurrency = f"concurrency:\n  max: {slots}\n" if slots > 1 else ""
    (target / "cog.yaml").write_text(f'predict: "predict.py:Predictor"\n{concurrency}')
    return target


def spawn(command: list[str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "COG_LOG_LEVEL": "warning"}
    with log.open("ab") as sink:
        return subprocess.Popen(command, cwd=cwd, stdout=sink, stderr=sink, env=env)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def wait_ready(url: str, process: subprocess.Popen[bytes], limit: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert process.poll() is None, "process exited during start-up"
        try:
            if httpx.get(url, timeout=1).json().get("status") == "READY":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise TimeoutError(f"{url} not READY in {limit} s")


def http_sample(name: str, folder: Path, log: Path, duration: float) -> dict[str, float]:
    _, slots, body, _ = VARIANTS[name]
    port = free_port()
    command = [sys.executable, "-m", "cogrt", "--no-supervise", "--http", "uvicorn"]
    process = spawn([*command, "--host", "127.0.0.1", "--port", str(port)], folder, log)
    try:
        wait_ready(f"http://127.0.0.1:{port}/health-check", process)
        url = f"http://127.0.0.1:{port}/predictions"
        run_wrk(url, body, slots, 1)  # warm-up
        cpu = tree_cpu_seconds(process.pid)
        result, _ = run_wrk(url, body, slots, duration)
        cpu = tree_cpu_seconds(process.pid) - cpu
    finally:
        stop(process)
    return {
        "rps": result.rps_ok,
        "p50_ms": result.latency_p50_ms,
        "p99_ms": result.latency_p99_ms,
        "server_cpu_us": cpu / max(1, result.ok) * 1e6,
    }


def cpu_now(pids: list[int]) -> float:
    return sum(tree_cpu_seconds(pid) for pid in pids)


async def queue_load(
    url: str,
    stream: str,
    body: dict,
    outstanding: int,
    duration: float,
    workers: list[int],
    redis_pid: int,
):
    from cogrt.worker.connection import connect

    client = connect(url)  # commands packed by hiredis, as the worker's: a cheaper producer
    marks: dict[str, tuple[float, float, float]] = {}
    ids: list[str] = []
    start = time.time()
    measure_from, measure_to = start + 1.0, start + 1.0 + duration  # 1 s warm-up
    try:
        while time.time() < measure_to:
            if "from" not in marks and time.time() >= measure_from:
                marks["from"] = (cpu_now(workers), cpu_now([redis_pid]), time.process_time())
            missing = outstanding - await client.xlen(stream)
            if missing > 0:
                async with client.pipeline(transaction=False) as pipe:
                    for _ in range(missing):
                        pid = f"{stream}-{len(ids)}"
                        ids.append(pid)
                        request = msgspec.json.encode({"id": pid, "input": body})
                        pipe.xadd(stream, {"request": request})
                    entry_ids = await pipe.execute()
                    for pid, entry in zip(ids[-missing:], entry_ids, strict=True):
                        enqueued[pid] = int(entry.split(b"-")[0]) / 1000
            await asyncio.sleep(0.005)
        marks["to"] = (cpu_now(workers), cpu_now([redis_pid]), time.process_time())
        deadline = time.time() + 60
        while await client.xlen(stream) and time.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # polling Redis: no event to wait on
        latencies, done = [], 0
        for i in range(0, len(ids), 1000):
            chunk = ids[i : i + 1000]
            for pid, raw in zip(
                chunk,
                await client.mget([f"cogrt:prediction:{p}:result" for p in chunk]),
                strict=True,
            ):
                if raw is None:
                    continue
                finished = datetime.fromisoformat(json.loads(raw)["completed_at"]).timestamp()
                if measure_from <= finished < measure_to:
                    done += 1
                    latencies.append((finished - enqueued[pid]) * 1000)
    finally:
        await client.aclose()
    latencies.sort()
    used = [b - a for a, b in zip(marks["from"], marks["to"], strict=True)]
    per = max(1, done) / 1e6
    return {
        "worker_cpu_us": used[0] / per,
        "redis_cpu_us": used[1] / per,
        "client_cpu_us": used[2] / per,
        "rps": done / duration,
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": latencies[int(len(latencies) * 0.99)] if latencies else float("nan"),
    }


enqueued: dict[str, float] = {}


def queue_sample(
    name: str,
    folder: Path,
    log: Path,
    redis_url: str,
    redis_pid: int,
    workers: int,
    duration: float,
) -> dict[str, float]:
    _, slots, _, body = VARIANTS[name]
    stream = f"bench-{name}-{workers}-{time.time_ns()}"
    with running_workers(workers, stream, folder, log, redis_url) as pids:
        enqueued.clear()
        backlog = max(slots, 32) * workers  # a queue with work waiting, as in production
        return asyncio.run(queue_load(redis_url, stream, body, backlog, duration, pids, redis_pid))


@contextlib.contextmanager
def running_workers(
    count: int, stream: str, folder: Path, log: Path, redis_url: str
) -> Iterator[list[int]]:
    """``count`` worker processes on ``stream``, ready (health port READY); their pids."""
    processes = []
    try:
        for _ in range(count):
            port = free_port()
            command = [sys.executable, "-m", "cogrt", "worker", "--redis", redis_url]
            command += ["--stream", stream, "--port", str(port), "--host", "127.0.0.1"]
            processes.append((spawn(command, folder, log), port))
        for process, port in processes:
            wait_ready(f"http://127.0.0.1:{port}/health-check", process)
        yield [process.pid for process, _ in processes]
    finally:
        for process, _ in processes:
            stop(process)


async def cancel_round_trips(redis_url: str, stream: str, samples: int) -> list[float]:
    """Milliseconds from ``cogrt.queue.cancel`` to the ``completed`` (canceled) event."""
    import cogrt.queue

    client = aioredis.Redis.from_url(redis_url)
    times = []
    try:
        for _ in range(samples):
            pid = await cogrt.queue.submit(client, stream, {"sleep_ms": 60_000})
            events = cogrt.queue.events(client, pid, timeout=60)
            assert (await anext(events)).event == "start"
            began = time.perf_counter()
            await cogrt.queue.cancel(client, pid)
            last = [e async for e in events][-1]
            times.append((time.perf_counter() - began) * 1000)
            assert last.prediction["status"] == "canceled"
    finally:
        await client.aclose()
    return sorted(times)


def cancel_sample(folder: Path, log: Path, redis_url: str, samples: int) -> dict[str, float]:
    """Cancel latency with two workers (the cancel must find the one holding the id)."""
    stream = f"bench-cancel-{time.time_ns()}"
    with running_workers(2, stream, folder, log, redis_url):
        times = asyncio.run(cancel_round_trips(redis_url, stream, samples))
    return {"p50_ms": statistics.median(times), "max_ms": times[-1]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--models", default="async,echo")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--cancels", type=int, default=20, help="cancel samples (0: none)")
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="cogrt-qbench-") as tmp:
        root = Path(tmp)
        log = root / "bench.log"
        redis_port = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--dir", tmp,
             "--appendonly", "yes", "--save", ""],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        redis_url = f"redis://127.0.0.1:{redis_port}/0"
        try:
            time.sleep(0.5)
            for round_no in range(args.rounds):
                for name in args.models.split(","):
                    folder = model_dir(root / f"r{round_no}", name)
                    variants = [("http", 0)] + [("queue", int(n)) for n in args.workers.split(",")]
                    if round_no % 2:
                        variants.reverse()  # interleave: drift hits both ends alike
                    for kind, workers in variants:
                        label = f"{name} http" if kind == "http" else f"{name} queue x{workers}"
                        if kind == "http":
                            sample = http_sample(name, folder, log, args.duration)
                        else:
                            sample = queue_sample(
                                name, folder, log, redis_url, redis.pid, workers, args.duration
                            )
                        results.setdefault(label, []).append(sample)
                        print(f"round {round_no + 1} {label}: {json.dumps(sample)}", flush=True)
            if args.cancels:
                folder = model_dir(root / "cancel", "async")
                cancel = cancel_sample(folder, log, redis_url, args.cancels)
                print(f"cancel -> canceled, {args.cancels} samples: {json.dumps(cancel)}")
        finally:
            stop(redis)
    print(
        "\n| variant | predictions/s | p50 ms | p99 ms | CPU us/prediction:"
        " server or workers | redis-server | client |\n|---|---|---|---|---|---|---|"
    )
    for label, samples in results.items():
        keys = ("rps", "p50_ms", "p99_ms", "server_cpu_us", "worker_cpu_us")
        keys += ("redis_cpu_us", "client_cpu_us")
        med = {k: statistics.median(s[k] for s in samples) for k in keys if k in samples[0]}
        own = med.get("server_cpu_us", med.get("worker_cpu_us", 0.0))
        redis_cpu = f"{med['redis_cpu_us']:.0f}" if "redis_cpu_us" in med else "-"
        client = f"{med['client_cpu_us']:.0f}" if "client_cpu_us" in med else "(wrk)"
        print(
            f"| {label} | {med['rps']:.0f} | {med['p50_ms']:.1f} | {med['p99_ms']:.1f}"
            f" | {own:.0f} | {redis_cpu} | {client} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
