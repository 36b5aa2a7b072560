"""What ``/metrics`` costs a sync echo at one connection: metrics on versus ``--no-metrics``.

Two ``python -m cogrt --no-supervise`` servers on the ``echo`` model (1 slot,
hypercorn unless ``--http uvicorn``), one with metrics (the default) and one
with ``--no-metrics``, both started before the first round. Round after
round, ``wrk`` (1 thread, 1 connection, ``post.lua``) drives each for
``--duration`` seconds, the order swapped every round (the machine is shared:
interleaving spreads its drift over both arms). The metrics server is
scraped once per round before its run, as Prometheus would, so the
exposition's import has happened. Reported: per-arm medians of requests/s,
p50 latency and the server's CPU per request (``/proc``), and the median of
the per-round (paired) on/off ratios, which is the figure to read.

    python benchmarks/metrics_cost.py --rounds 9 --duration 5 [--http uvicorn]

``--in-process`` measures the same two apps without sockets or servers: each
round sends ``--requests`` sync echo predictions straight into each app's
ASGI callable (``POST /predictions``, the direct path) and takes this
process's CPU time per request, arms alternating. Less noisy on a shared
machine (no second process, no network), it shows what the app itself pays.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import loadgen
from procstats import tree_cpu_seconds
from servers import free_port, health_status

MODEL = Path(__file__).resolve().parent / "models" / "echo"
BODY = '{"input":{"text":"hi"}}'
ARMS = ("on", "off")


@contextmanager
def server(arm: str, http: str, python: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    command = [python, "-m", "cogrt", "predict.py:Predictor", "--no-supervise"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--http", http]
    if arm == "off":
        command.append("--no-metrics")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "COGRT_METRICS"))}
    proc = subprocess.Popen(
        command, cwd=MODEL, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while health_status(url) != "READY":
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {arm} server never became READY")
            time.sleep(0.05)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


def one_run(url: str, pid: int, duration: float) -> dict[str, float]:
    before = tree_cpu_seconds(pid)
    result, _ = loadgen.run_wrk(f"{url}/predictions", BODY, 1, duration, threads=1)
    cpu = tree_cpu_seconds(pid) - before
    return {
        "rps": result.rps_total,
        "p50_ms": result.latency_p50_ms,
        "cpu_us": cpu * 1e6 / max(1, result.requests),
    }


async def in_process(rounds: int, requests: int) -> list[dict[str, dict[str, float]]]:
    """CPU per request of ``create_app`` with and without metrics, called as ASGI."""
    from cogrt.http.app import create_app

    sys.path.insert(0, str(MODEL))
    from predict import Predictor  # type: ignore[import-not-found]

    body = BODY.encode()
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": "/predictions",
        "raw_path": b"/predictions",
        "root_path": "",
        "scheme": "http",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"23")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 2),
    }

    request = {"type": "http.request", "body": body, "more_body": False}
    never = asyncio.Event()

    def receiver() -> Callable[[], Awaitable[dict[str, object]]]:
        """The body once, then nothing: the client stays connected."""
        sent = False

        async def receive() -> dict[str, object]:
            nonlocal sent
            if sent:
                await never.wait()
            sent = True
            return request

        return receive

    statuses: list[int] = []

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(int(message["status"]))  # type: ignore[call-overload]

    apps = {arm: create_app(Predictor, metrics=arm == "on") for arm in ARMS}
    samples = []
    async with (
        apps["on"].router.lifespan_context(apps["on"]),
        apps["off"].router.lifespan_context(apps["off"]),
    ):
        for app in apps.values():
            await app.state.runtime.wait_setup(30)
            if app.state.metrics is not None:
                await app.state.metrics.render()  # the exposition imported, as after a scrape
            for _ in range(requests):  # warm-up: the middleware stack, caches, the allocator
                await app(dict(scope), receiver(), send)
        for number in range(rounds):
            row = {}
            for arm in ARMS if number % 2 == 0 else ARMS[::-1]:
                app = apps[arm]
                began = time.process_time()
                for _ in range(requests):
                    await app(dict(scope), receiver(), send)
                row[arm] = {"cpu_us": (time.process_time() - began) * 1e6 / requests}
            samples.append(row)
            ratio = row["on"]["cpu_us"] / row["off"]["cpu_us"]
            print(f"round {number + 1}: on/off CPU per request {ratio:.3f}", json.dumps(row))
    assert set(statuses) == {200}, set(statuses)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--http", choices=("hypercorn", "uvicorn"), default="hypercorn")
    parser.add_argument("--python", default=sys.executable, help="the interpreter with cogrt")
    parser.add_argument("--out", type=Path, default=None, help="write the samples as JSON")
    parser.add_argument("--in-process", action="store_true", help="ASGI calls, no servers")
    parser.add_argument("--requests", type=int, default=5000, help="per arm and round")
    args = parser.parse_args(argv)
    if args.in_process:
        import uvloop

        samples = uvloop.run(in_process(args.rounds, args.requests))
        paired = statistics.median(s["on"]["cpu_us"] / s["off"]["cpu_us"] for s in samples)
        for arm in ARMS:
            median = statistics.median(s[arm]["cpu_us"] for s in samples)
            print(f"median {arm}: {median:.1f} us of CPU per request")
        print(f"median paired on/off CPU per request: {paired:.3f}")
        return 0
    samples: list[dict[str, dict[str, float]]] = []
    with (
        server("on", args.http, args.python) as on,
        server("off", args.http, args.python) as off,
    ):
        urls = {"on": on, "off": off}
        for number in range(args.rounds):
            row: dict[str, dict[str, float]] = {}
            for arm in ARMS if number % 2 == 0 else ARMS[::-1]:
                url, pid = urls[arm]
                if arm == "on":
                    urllib.request.urlopen(f"{url}/metrics", timeout=10).read()
                row[arm] = one_run(url, pid, args.duration)
            samples.append(row)
            ratio = row["on"]["rps"] / row["off"]["rps"]
            print(f"round {number + 1}: on/off requests/s {ratio:.3f}", json.dumps(row))
    keys = ("rps", "p50_ms", "cpu_us")
    for arm in ARMS:
        medians = {k: round(statistics.median(s[arm][k] for s in samples), 3) for k in keys}
        print(f"median {arm}: {medians}")
    for key in keys:
        paired = statistics.median(s["on"][key] / s["off"][key] for s in samples)
        print(f"median paired on/off {key}: {paired:.3f}")
    if args.out is not None:
        args.out.write_text(json.dumps({"http": args.http, "samples": samples}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
