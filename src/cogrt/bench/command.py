"""``python -m cogrt bench``: load-test a Cog model at several concurrencies or rates.

The target is the model in this folder served by a fresh ``python -m cogrt``
(the default), the same model driven in this process through ``Runtime``
(``--in-process``: the model's and engine's cost without HTTP), or any server
speaking Cog's API (``--url``). Everything that can be wrong with the options,
the inputs or the target is found before any load is sent: the first
prediction is sent alone, and a refusal stops the command with its message.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any, TextIO

import msgspec

from cogrt.bench.drivers import Budget, run_closed, run_open
from cogrt.bench.exchanges import HttpRequester, Requester
from cogrt.bench.html_report import render_html
from cogrt.bench.inprocess import InProcessRequester, start_runtime
from cogrt.bench.inputs import load_inputs
from cogrt.bench.lanes import run_lanes
from cogrt.bench.outcomes import Tally
from cogrt.bench.plan import Level, Plan, build_plan
from cogrt.bench.pool import ConnectionPool
from cogrt.bench.procstats import ProcessWatch
from cogrt.bench.progress import Progress
from cogrt.bench.report import LevelResult, format_table, run_json
from cogrt.bench.target import get, parse_url, spawn_server, wait_ready
from cogrt.bench.webhook_sink import WebhookSink
from cogrt.errors import BenchError, CogrtError

__all__ = ["add_arguments", "main", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_argument_group("target (default: this folder's model on a fresh server)")
    target.add_argument(
        "ref", nargs="?", metavar="REF", help="predictor, e.g. predict.py:Predictor"
    )
    where = target.add_mutually_exclusive_group()
    where.add_argument(
        "--url", help="a running server that speaks Cog's API, e.g. http://host:5000"
    )
    where.add_argument(
        "--in-process", action="store_true", help="drive a Runtime in this process, without HTTP"
    )
    target.add_argument(
        "--http", choices=("hypercorn", "uvicorn"), default="hypercorn", help="the spawned server"
    )
    target.add_argument(
        "--setup-timeout", type=float, default=600.0, metavar="SECONDS", help="default 600"
    )
    inputs = parser.add_argument_group("inputs")
    inputs.add_argument(
        "-i",
        "--input",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="typed by the model's schema, as `predict` does; @FILE sends a file",
    )
    inputs.add_argument("--inputs", metavar="FILE.jsonl", help="one input object per line, cycled")
    load = parser.add_argument_group("load")
    load.add_argument("-c", "--concurrency", metavar="N[,N...]", help="closed loop (default 1)")
    load.add_argument("--rate", metavar="R[,R...]", help="open loop: predictions started per s")
    load.add_argument("--poisson", action="store_true", help="open loop: Poisson arrivals")
    load.add_argument("--seed", type=int, default=None, help="seed of the Poisson arrivals")
    load.add_argument("--duration", metavar="TIME", help="per level (default 10s)")
    load.add_argument("-n", "--requests", type=int, metavar="N", help="predictions per level")
    load.add_argument("--warmup", default="0", metavar="TIME", help="unmeasured load per level")
    load.add_argument(
        "--timeout", type=float, default=60.0, metavar="SECONDS", help="per prediction (60)"
    )
    load.add_argument("--max-connections", type=int, default=1024, help="open loop's limit")
    mode = load.add_mutually_exclusive_group()
    mode.add_argument("--stream", action="store_true", help="SSE: time to first token, tokens/s")
    mode.add_argument(
        "--async", dest="use_async", action="store_true", help="Prefer: respond-async + webhook"
    )
    load.add_argument(
        "--webhook-host",
        default="127.0.0.1",
        help="--async: the address the server reaches this machine at",
    )
    out = parser.add_argument_group("output")
    out.add_argument("--json", metavar="OUT", help="write the figures and histograms as JSON")
    out.add_argument("--html", metavar="OUT", help="write a self-contained page with the curves")
    out.add_argument("-q", "--quiet", action="store_true", help="no progress lines")


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cogrt bench",
        description="Load-test a Cog model at several concurrencies or arrival rates.",
    )
    add_arguments(parser)
    try:
        ns = parser.parse_args(list(argv))
    except SystemExit as exc:  # --help, usage errors
        return exc.code if isinstance(exc.code, int) else 2
    return run(ns)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM unwinds like Ctrl-C: a spawned server is stopped


def run(ns: argparse.Namespace) -> int:
    err, out = sys.stderr, sys.stdout  # before an in-process runtime captures them
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        plan = build_plan(
            concurrency=ns.concurrency,
            rate=ns.rate,
            duration=ns.duration,
            requests=ns.requests,
            mode="sse" if ns.stream else "async" if ns.use_async else "sync",
            poisson=ns.poisson,
            timeout=ns.timeout,
            warmup=ns.warmup,
            max_connections=ns.max_connections,
        )
        if ns.in_process and ns.use_async:
            raise BenchError("--async needs HTTP: webhooks go to a URL; drop --in-process")
        document = _run_loop(_bench(ns, plan, out, err))
        if ns.json:
            Path(ns.json).write_bytes(msgspec.json.format(msgspec.json.encode(document)) + b"\n")
        if ns.html:
            Path(ns.html).write_text(render_html(document))
        return 0
    except CogrtError as exc:
        print(f"cogrt bench: error: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        print("cogrt bench: interrupted", file=err)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run_loop(coroutine: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    try:
        import uvloop
    except ImportError:  # Windows: the default loop
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


async def _bench(ns: argparse.Namespace, plan: Plan, out: TextIO, err: TextIO) -> dict[str, Any]:
    async with AsyncExitStack() as stack:
        factory, label, watch, inputs = await _open_target(ns, plan, stack, err)
        first = Tally()  # the first prediction alone: bad input stops here, before any load
        await factory(1).send(0, time.perf_counter(), first)
        if first.counts["ok"] != 1:
            raise BenchError(
                f"the first prediction, sent alone, did not succeed: {first.first_error}"
            )
        results = []
        for level in plan.levels:
            level_result = await _level(
                plan, level, factory, watch, err, ns.quiet, pause_collector=not ns.in_process
            )
            results.append(level_result)
        print(format_table(results), file=out)
        for result in results:
            if result.client_cores > 0.9 and not ns.in_process:
                print(
                    f"cogrt bench: warning: at {result.level.label} this load generator used"
                    f" {result.client_cores:.0%} of a core: the figures may show its limit,"
                    " not the server's",
                    file=err,
                )
        meta = {"target": label, "mode": plan.mode, "inputs": len(inputs), "plan": _plan(plan)}
        if watch is not None:
            meta["stats_of"] = "the bench process" if ns.in_process else "the server process"
        return run_json(meta, results)


Factory = Callable[[int], Requester]
"""A requester for a level with at most this many connections."""


async def _open_target(
    ns: argparse.Namespace, plan: Plan, stack: AsyncExitStack, err: TextIO
) -> tuple[Factory, str, ProcessWatch | None, list[dict[str, Any]]]:
    """Start or reach the target; return a requester factory, a label, stats, the inputs."""
    if ns.in_process:
        runtime = await start_runtime(ns.ref, ns.setup_timeout, stack)
        inputs = load_inputs(ns.input, ns.inputs, runtime.openapi_json)

        def in_process(_connections: int) -> Requester:
            return InProcessRequester(runtime, inputs, plan.mode == "sse", plan.timeout)

        return in_process, "in-process Runtime", ProcessWatch(os.getpid()), inputs
    if ns.url:
        if ns.ref:
            raise BenchError("REF names a local model; with --url the server decides")
        target = parse_url(ns.url)
    else:
        if not ns.quiet:
            print(f"starting python -m cogrt --http {ns.http} ...", file=err)
        target = spawn_server(ns.ref, ns.http, [])
        stack.callback(target.stop)
    await wait_ready(target, ns.setup_timeout)
    status, schema = await get(target, "/openapi.json")
    inputs = load_inputs(ns.input, ns.inputs, schema if status == 200 else None)
    sink: WebhookSink | None = None
    if plan.mode == "async":
        sink = WebhookSink()
        await sink.start(advertised=ns.webhook_host)
        stack.push_async_callback(sink.close)
    watch = ProcessWatch(target.process.pid) if target.process is not None else None
    pools: list[ConnectionPool] = []

    def close_pools() -> None:
        for pool in pools:
            pool.close()

    stack.callback(close_pools)

    def over_http(connections: int) -> Requester:
        pool = ConnectionPool(target.host, target.port, connections)
        pools.append(pool)
        return HttpRequester(pool, inputs, plan.mode, plan.timeout, sink)

    label = target.url if ns.url else f"python -m cogrt --http {ns.http} ({target.url})"
    return over_http, label, watch if watch is not None and watch.available else None, inputs


async def _level(
    plan: Plan,
    level: Level,
    factory: Factory,
    watch: ProcessWatch | None,
    err: TextIO,
    quiet: bool,
    pause_collector: bool,
) -> LevelResult:
    connections = level.concurrency or plan.max_connections
    requester: Requester = factory(connections)
    if plan.warmup > 0:
        await _drive(requester, plan, level, Budget(plan.warmup, None), Tally())
    tally = Tally()
    if watch is not None:
        watch.begin()
    started, cpu = time.perf_counter(), time.process_time()
    with collector_paused(pause_collector), Progress(err, level.label, tally, quiet=quiet):
        budget = Budget(plan.duration, plan.requests, at_deadline=tally.close_window)
        try:
            await _drive(requester, plan, level, budget, tally)
        finally:
            budget.end()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    process = watch.end() if watch is not None else None
    return LevelResult(level, wall, tally, process, client_cpu_s=cpu, window_s=plan.duration)


async def _drive(requester: Requester, plan: Plan, level: Level, budget: Budget, t: Tally) -> None:
    if level.rate is not None:
        await run_open(requester, level.rate, budget, t, poisson=plan.poisson)
    elif isinstance(requester, HttpRequester) and requester.mode == "sync":
        assert level.concurrency is not None  # the hot case: callbacks, no task per request
        pool = requester.pool
        await run_lanes(
            pool.host, pool.port, requester.requests, level.concurrency, budget, t, plan.timeout
        )
    else:
        assert level.concurrency is not None
        await run_closed(requester, level.concurrency, budget, t)


@contextmanager
def collector_paused(pause: bool) -> Iterator[None]:
    """No cyclic garbage collection while a level's load runs (over HTTP only).

    A collection of the client's heap stops every connection at once for up
    to milliseconds, and each stop shows as latency the server never caused:
    it was most of bench's p99 at one connection against wrk's. The closed
    loop frees its objects by reference counting; what cycles a level makes
    are collected when it ends. In-process, the server's runtime shares this
    heap and keeps its own collector settings.
    """
    if not pause or not gc.isenabled():
        yield
        return
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def _plan(plan: Plan) -> dict[str, Any]:
    return {
        "levels": [level.label for level in plan.levels],
        "duration_s": plan.duration,
        "requests": plan.requests,
        "poisson": plan.poisson,
        "timeout_s": plan.timeout,
        "warmup_s": plan.warmup,
    }
