"""Request/response load with wrk, parsed into plain numbers.

Why wrk: it is a C load generator that costs the 2-core machine far less CPU
per request than any Python client, so the server, not the client, is what
saturates.  ``post.lua`` makes wrk POST the workload's JSON body and print
one exact ``BENCH_JSON`` line (409s counted apart from other failures).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA_SCRIPT = Path(__file__).with_name("post.lua")
MARKER = "BENCH_JSON "


@dataclass(frozen=True)
class WrkResult:
    """One wrk run; latencies in milliseconds, counts over the whole run."""

    duration_s: float
    requests: int
    status_409: int
    status_other: int
    socket_errors: int
    latency_p50_ms: float
    latency_p90_ms: float
    latency_p99_ms: float
    latency_max_ms: float

    @property
    def ok(self) -> int:
        """Responses with a 2xx status."""
        return self.requests - self.status_409 - self.status_other

    @property
    def rps_total(self) -> float:
        return self.requests / self.duration_s

    @property
    def rps_ok(self) -> float:
        return self.ok / self.duration_s


class WrkError(RuntimeError):
    """wrk failed or printed no BENCH_JSON line."""


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkError("wrk not found on PATH; install it with `apt-get install wrk`")
    return path


def parse_output(stdout: str) -> WrkResult:
    """Extract the BENCH_JSON line printed by post.lua's done()."""
    for line in stdout.splitlines():
        if line.startswith(MARKER):
            raw = json.loads(line[len(MARKER) :])
            return WrkResult(
                duration_s=raw["duration_us"] / 1e6,
                requests=raw["requests"],
                status_409=raw["status_409"],
                status_other=raw["status_other"],
                socket_errors=raw["err_connect"]
                + raw["err_read"]
                + raw["err_write"]
                + raw["err_timeout"],
                latency_p50_ms=raw["lat_p50_us"] / 1000,
                latency_p90_ms=raw["lat_p90_us"] / 1000,
                latency_p99_ms=raw["lat_p99_us"] / 1000,
                latency_max_ms=raw["lat_max_us"] / 1000,
            )
    raise WrkError(f"no {MARKER.strip()} line in wrk output:\n{stdout[-2000:]}")


def run_wrk(
    url: str,
    body: str,
    connections: int,
    duration_s: float,
    threads: int = 1,
    timeout_s: float = 10.0,
) -> tuple[WrkResult, str]:
    """Run wrk for ``duration_s`` and return the parsed result and raw stdout.

    The subprocess is bounded by its own duration plus a grace period, so a
    wedged server cannot hang the harness.
    """
    threads = max(1, min(threads, connections))
    command = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        f"--timeout={max(1, round(timeout_s))}s",
        "--latency",
        "-s",
        str(LUA_SCRIPT),
        url,
    ]
    env = {**os.environ, "BENCH_BODY": body}
    try:
        done = subprocess.run(
            command,
            env=env,
            capture_output=True,
            text=True,
            timeout=duration_s + timeout_s + 30,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise WrkError(f"wrk did not finish: {exc}") from exc
    if done.returncode != 0:
        raise WrkError(f"wrk exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return parse_output(done.stdout), done.stdout
