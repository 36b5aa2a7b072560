"""Start-up time of cogrt: spawn -> ``GET /health-check`` says READY, and idle PSS.

Quicker than ``run.py`` for start-up work, and it can A/B source trees: each
``--src DIR`` (a checkout's ``src``, put first on ``PYTHONPATH``) is one
variant, ``-`` is the installed cogrt. ``--supervise on,off`` also A/Bs the
supervisor (``off`` adds ``--no-supervise``); supervised rows show the
supervisor process's own PSS too. Runs are interleaved (variant, then
server, then the next round) so a machine that speeds up or slows down
mid-run biases no variant; with ``--supervise on,off`` the difference
within each round is summarised too. Polls every 5 ms; CPU time is that of
all threads of the process tree at READY; PSS is read 0.5 s after READY.

    python benchmarks/startup.py --runs 9
    python benchmarks/startup.py --src /tmp/before/src --src - --runs 15
    python benchmarks/startup.py --supervise on,off --http hypercorn --runs 15 --pyc

``--floor`` adds ``stack_floor.py`` (cogrt's third-party stack answering
READY, no runtime) and ``--cog-python`` Cog's server, interleaved with the
rest, each row then also as a ratio to Cog's median:

    python benchmarks/startup.py --http hypercorn --floor --pyc --runs 15 \
        --cog-python .bench/cog-venv/bin/python

``PYTHONDONTWRITEBYTECODE=1`` in the environment makes every start compile
cogrt from source when it is installed editable (~100 ms here); ``--pyc``
drops it and caches bytecode under ``--pyc-dir``, the way an installed wheel
starts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from procstats import pss_mib, tree_cpu_ms, tree_pss_mib
from servers import Interpreters, free_port, health_status, launch_command

BENCH_DIR = Path(__file__).resolve().parent
MODEL = BENCH_DIR / "models" / "echo"
Variant = tuple[str, str, str]
"""A cogrt start: source tree, HTTP server, supervise; or ``FLOOR`` or ``COG``."""
FLOOR: Variant = ("floor", "-", "-")
COG: Variant = ("cog", "-", "-")


Sample = tuple[float, float, float, float]
"""ms from spawn to READY, CPU ms at READY, idle PSS MiB of the tree, of its first process."""


def launch(
    variant: Variant, port: int, args: argparse.Namespace, env: dict[str, str]
) -> tuple[list[str], dict[str, str], Path]:
    """The command, environment and folder that start ``variant`` on ``port``."""
    src, http, supervise = variant
    if variant == FLOOR:
        return [args.python, str(BENCH_DIR / "stack_floor.py"), "--port", str(port)], env, MODEL
    if variant == COG:  # as run.py starts it
        pythons = Interpreters(Path(args.cog_python), Path(args.python), Path(args.python))
        command, extra = launch_command("cog", port, pythons, "predict.py:Predictor", 1)
        return command, {**env, **extra}, args.cog_model
    command = [args.python, "-m", "cogrt", "predict.py:Predictor", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--http", http]
    if supervise == "off":
        command.append("--no-supervise")
    if src != "-":
        env = {**env, "PYTHONPATH": src}
    return command, env, MODEL


def one_start(variant: Variant, args: argparse.Namespace, env: dict[str, str]) -> Sample:
    """One server start, measured."""
    port = free_port()
    command, env, cwd = launch(variant, port, args, env)
    url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while health_status(url) != "READY":
            if proc.poll() is not None:
                raise SystemExit(f"{command} exited with {proc.returncode}")
            if time.perf_counter() - started > 60:
                raise SystemExit(f"{command} not READY after 60 s")
            time.sleep(0.005)
        ready_ms = (time.perf_counter() - started) * 1000
        cpu_ms = tree_cpu_ms(proc.pid)
        time.sleep(0.5)
        return ready_ms, cpu_ms, tree_pss_mib(proc.pid), pss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--src", action="append", help="source tree to test, '-' = installed")
    parser.add_argument("--http", default="hypercorn,uvicorn")
    parser.add_argument("--supervise", default="on", help="on, off, or on,off to A/B")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--pyc", action="store_true", help="cache bytecode (see above)")
    parser.add_argument("--pyc-dir", default="/tmp/cogrt-startup-pyc")
    parser.add_argument("--floor", action="store_true", help="also time stack_floor.py")
    parser.add_argument("--cog-python", help="also time Cog's server, with this interpreter")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.pyc:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = args.pyc_dir
    variants = [
        (src, http, supervise)
        for src in args.src or ["-"]
        for http in args.http.split(",")
        for supervise in args.supervise.split(",")
    ]
    variants += [FLOOR] if args.floor else []
    with tempfile.TemporaryDirectory(prefix="cogrt-startup-") as scratch:
        if args.cog_python:  # Cog reads its schema from the model folder, as run.py writes it
            from run import prepare_models

            args.cog_model = prepare_models(Path(scratch), Path(args.cog_python)) / MODEL.name
            variants.append(COG)
        for variant in variants:  # warm-up: fills the bytecode cache, pages in the files
            one_start(variant, args, env)
        results: dict[Variant, list[Sample]] = {v: [] for v in variants}
        for _ in range(args.runs):
            for variant in variants:
                results[variant].append(one_start(variant, args, env))
    cog_median = statistics.median(s[0] for s in results[COG]) if COG in results else None
    for (src, http, supervise), samples in results.items():
        ready = sorted(sample[0] for sample in samples)
        cpu = sorted(sample[1] for sample in samples)
        pss = statistics.median(sample[2] for sample in samples)
        first = statistics.median(sample[3] for sample in samples)
        supervisor = f", supervisor {first:.1f} MiB" if supervise == "on" else ""
        ratio = f" ({statistics.median(ready) / cog_median:.2f}x Cog)" if cog_median else ""
        print(
            f"{http:9} {src:28} supervise {supervise:3} READY median"
            f" {statistics.median(ready):4.0f} ms{ratio} (min {ready[0]:.0f}, max {ready[-1]:.0f},"
            f" n={len(ready)}), CPU median {statistics.median(cpu):.1f} ms (min {cpu[0]:.1f})"
            f"  idle PSS {pss:.1f} MiB{supervisor}"
        )
    for src in args.src or ["-"]:
        for http in args.http.split(","):
            if {"on", "off"} <= set(args.supervise.split(",")):
                pairs = zip(results[src, http, "on"], results[src, http, "off"], strict=True)
                diffs = sorted(on[0] - off[0] for on, off in pairs)
                quarter = len(diffs) // 4
                print(
                    f"{http:9} {src:28} supervised minus not, same round: median"
                    f" {statistics.median(diffs):+.1f} ms"
                    f" (middle half {diffs[quarter]:+.0f} to {diffs[-quarter - 1]:+.0f})"
                )


if __name__ == "__main__":
    main()
