"""The benchmark workloads and how one is measured against a running server.

Why these: ``echo*`` isolates per-request serving overhead at rising
connection counts (with one sync slot most requests beyond the first get
409, which is itself a cost worth measuring); ``sleep*`` measures how many
concurrent async predictions a server really sustains when slots equal
connections; ``sse1000`` and ``webhooks1000`` measure per-token streaming
overhead; ``cancel`` and ``health_busy`` measure how responsive the server
stays while a sync predictor holds the GIL in pure Python.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import loadgen
import probes
from procstats import tree_cpu_seconds, tree_pss_mib
from servers import RunningServer

Kind = Literal["wrk", "sse", "cancel", "health", "webhooks"]
# Kinds needing Cog semantics (async predictions, webhooks, cancel) the ceilings lack.
NEEDS_COG_API: frozenset[Kind] = frozenset({"cancel", "webhooks"})
WARMUP_DRAIN_S = 1.0


@dataclass(frozen=True)
class Workload:
    """A model folder, its slot count and the load applied to it."""

    name: str
    model: str
    kind: Kind
    max_concurrency: int = 1
    connections: int = 1
    body: dict[str, Any] = field(default_factory=dict)


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload("echo1", "echo", "wrk", 1, 1, {"input": {"text": "hi"}}),
        Workload("echo8", "echo", "wrk", 1, 8, {"input": {"text": "hi"}}),
        Workload("echo64", "echo", "wrk", 1, 64, {"input": {"text": "hi"}}),
        Workload("sleep64", "async_sleep", "wrk", 64, 64, {"input": {"sleep_ms": 50}}),
        Workload("sleep1000", "async_sleep", "wrk", 1000, 1000, {"input": {"sleep_ms": 50}}),
        Workload("sse1000", "stream_tokens", "sse"),
        Workload("webhooks1000", "stream_tokens", "webhooks"),
        Workload("cancel", "cpu_burn", "cancel"),
        Workload("cancel_sleep", "sync_sleep", "cancel", body={"input": {"seconds": 30.0}}),
        Workload("health_busy", "cpu_burn", "health"),
    )
}


@dataclass(frozen=True)
class Settings:
    """Knobs shared by all workloads (from the command line)."""

    duration_s: float
    warmup_s: float
    wrk_threads: int
    idle_settle_s: float
    sse_repeats: int
    cancel_repeats: int
    burn_seconds: float
    probe_timeout_s: float


def supports(server: str, workload: Workload) -> bool:
    """Ceilings implement only POST /predictions (+SSE) and GET /health-check."""
    return not (server.startswith("ceiling-") and workload.kind in NEEDS_COG_API)


def _wrk(server: RunningServer, workload: Workload, settings: Settings) -> dict[str, Any]:
    url = f"{server.base_url}/predictions"
    body = json.dumps(workload.body)
    if settings.warmup_s > 0:
        loadgen.run_wrk(url, body, workload.connections, settings.warmup_s, settings.wrk_threads)
        # wrk drops its connections mid-request; let the orphaned predictions
        # (at most 50 ms of sleep) finish so the measured run starts with free slots.
        time.sleep(WARMUP_DRAIN_S)
    cpu_before = tree_cpu_seconds(server.pid)
    wall_before = time.perf_counter()
    result, raw = loadgen.run_wrk(
        url, body, workload.connections, settings.duration_s, settings.wrk_threads
    )
    cpu_s = tree_cpu_seconds(server.pid) - cpu_before
    wall_s = time.perf_counter() - wall_before
    return {
        "rps_ok": result.rps_ok,
        "rps_total": result.rps_total,
        "latency_p50_ms": result.latency_p50_ms,
        "latency_p90_ms": result.latency_p90_ms,
        "latency_p99_ms": result.latency_p99_ms,
        "latency_max_ms": result.latency_max_ms,
        "requests": result.requests,
        "status_409": result.status_409,
        "status_409_pct": 100 * result.status_409 / result.requests if result.requests else None,
        "errors": result.status_other + result.socket_errors,
        "cpu_us_per_request": cpu_s * 1e6 / result.requests if result.requests else None,
        "server_cores": cpu_s / wall_s,
        "wrk_stdout": raw,
    }


def _probe(server: RunningServer, workload: Workload, settings: Settings) -> dict[str, Any]:
    url, timeout = server.base_url, settings.probe_timeout_s
    if workload.kind == "sse":
        coro = probes.sse_probe(url, 1000, settings.sse_repeats, timeout)
    elif workload.kind == "cancel":
        seconds = float(workload.body.get("input", {}).get("seconds", 60.0))
        # A server that waits for the call to end answers after `seconds`.
        coro = probes.cancel_probe(url, settings.cancel_repeats, seconds, seconds + timeout)
    elif workload.kind == "health":
        coro = probes.health_probe(url, settings.burn_seconds, 20, timeout)
    elif workload.kind == "webhooks":
        coro = probes.webhook_probe(url, 1000, timeout)
    else:
        raise ValueError(f"not a probe workload: {workload.kind}")
    return asyncio.run(coro)


def measure(server: RunningServer, workload: Workload, settings: Settings) -> dict[str, Any]:
    """All figures for one server/workload pair, idle figures first."""
    time.sleep(settings.idle_settle_s)
    metrics: dict[str, Any] = {
        "start_to_ready_ms": server.start_to_ready_ms,
        "idle_pss_mib": tree_pss_mib(server.pid),
    }
    if workload.kind == "wrk":
        metrics.update(_wrk(server, workload, settings))
    else:
        metrics.update(_probe(server, workload, settings))
    return metrics
