"""Benchmark cogrt against Cog and bare-ASGI ceilings; write JSON, print markdown.

Why this shape: each (round, workload, server) sample starts a fresh server
so start-up time and idle memory are measured every time and no state leaks
between samples; servers are interleaved and their order rotated per round
so slow drift of the shared machine hits all of them alike; medians across
rounds are reported.  A server that cannot start (a Cog release that no
longer installs, a broken build) is skipped for the rest of the invocation
instead of failing it.

Example:
    python benchmarks/run.py --env-dir .bench --servers cog,ceiling-hypercorn \
        --workloads echo1,sse1000 --rounds 3 --duration 10 --out .bench/results.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import loadgen
import report
from servers import SERVER_NAMES, Interpreters, ServerStartError, running_server, warm_bytecode
from workloads import WORKLOADS, Settings, measure, supports

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
MODELS_DIR = BENCH_DIR / "models"
SCHEMA_SCRIPT = BENCH_DIR / "cog_schema.py"


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--servers",
        type=_csv,
        default=list(SERVER_NAMES),
        help=f"comma list from: {','.join(SERVER_NAMES)}",
    )
    parser.add_argument(
        "--workloads",
        type=_csv,
        default=list(WORKLOADS),
        help=f"comma list from: {','.join(WORKLOADS)}",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--duration", type=float, default=10.0, help="seconds of measured wrk load per sample"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        help="seconds of unmeasured wrk load before each sample",
    )
    parser.add_argument(
        "--wrk-threads",
        type=int,
        default=1,
        help="wrk threads; 1 leaves the other core to the server",
    )
    parser.add_argument("--sse-repeats", type=int, default=10)
    parser.add_argument("--cancel-repeats", type=int, default=5)
    parser.add_argument(
        "--burn-seconds",
        type=float,
        default=3.0,
        help="length of the cpu_burn prediction in health_busy",
    )
    parser.add_argument("--probe-timeout", type=float, default=30.0)
    parser.add_argument("--ready-timeout", type=float, default=60.0)
    parser.add_argument(
        "--idle-settle",
        type=float,
        default=0.5,
        help="seconds after READY before idle memory is read",
    )
    parser.add_argument(
        "--env-dir",
        type=Path,
        default=REPO_ROOT / ".bench",
        help="where setup_envs.py put cog-venv/ and ceiling-venv/",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="scratch folder for model copies and logs (default ENV_DIR/work)",
    )
    parser.add_argument("--cog-python", type=Path, default=None)
    parser.add_argument("--ceiling-python", type=Path, default=None)
    parser.add_argument(
        "--cogrt-python",
        type=Path,
        default=Path(sys.executable),
        help="interpreter with cogrt installed (default: this one)",
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / ".bench" / "results.json")
    parser.add_argument(
        "--markdown", type=Path, default=None, help="also write the markdown table to this file"
    )
    args = parser.parse_args(argv)
    unknown = [s for s in args.servers if s not in SERVER_NAMES]
    unknown += [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown servers/workloads: {', '.join(unknown)}")
    if args.rounds < 1 or args.duration < 1:
        parser.error("--rounds and --duration must be at least 1")
    return args


def prepare_models(work_dir: Path, cog_python: Path) -> Path:
    """Copy the model folders to scratch and write Cog's schema into each copy.

    Copies keep the repo clean of generated ``.cog/`` files and server output.
    """
    models = work_dir / "models"
    if models.exists():
        shutil.rmtree(models)
    shutil.copytree(MODELS_DIR, models, ignore=shutil.ignore_patterns("__pycache__", ".cog"))
    if cog_python.exists():
        for model in sorted(p for p in models.iterdir() if p.is_dir()):
            subprocess.run(
                [str(cog_python), str(SCHEMA_SCRIPT), str(model)],
                check=True,
                timeout=120,
                capture_output=True,
            )
    else:
        print(f"warning: {cog_python} missing; models get no Cog schema", file=sys.stderr)
    return models


def _version(python: Path, code: str) -> str:
    if not python.exists():
        return "missing"
    try:
        done = subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable: {exc}"
    return done.stdout.strip() or f"unavailable: {done.stderr.strip()[-200:]}"


def machine_info(interpreters: Interpreters) -> dict[str, Any]:
    """What the numbers were measured on, so they are never quoted without it."""
    cpu_model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    wrk = subprocess.run(
        [loadgen.wrk_path(), "-v"], capture_output=True, text=True, timeout=10, check=False
    )
    dists = (
        "import importlib.metadata as m\n"
        "for d in {}:\n"
        "    try: print(d, m.version(d))\n"
        "    except m.PackageNotFoundError: pass"
    )
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu": cpu_model,
        "cores": len(os.sched_getaffinity(0)),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": (wrk.stdout + wrk.stderr).splitlines()[0] if wrk.stdout + wrk.stderr else "",
        "cog_env": _version(interpreters.cog, dists.format('["cog", "coglet"]')),
        "ceiling_env": _version(
            interpreters.ceiling,
            dists.format('["hypercorn", "uvicorn", "uvloop", "httptools", "h11"]'),
        ),
        "cogrt_env": _version(
            interpreters.cogrt,
            dists.format('["cogrt", "hypercorn", "uvicorn", "uvloop", "httptools", "h11"]'),
        ),
    }


def raise_fd_limit() -> None:
    """1000 connections need more than the common 1024 descriptors (inherited by servers)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run_sample(
    args: argparse.Namespace,
    interpreters: Interpreters,
    models: Path,
    logs: Path,
    settings: Settings,
    round_no: int,
    workload_name: str,
    server: str,
) -> dict[str, Any]:
    """One fresh server, one workload; never raises except for KeyboardInterrupt."""
    workload = WORKLOADS[workload_name]
    sample: dict[str, Any] = {"round": round_no, "workload": workload_name, "server": server}
    try:
        with running_server(
            server,
            models / workload.model,
            workload.max_concurrency,
            interpreters,
            logs,
            ready_timeout_s=args.ready_timeout,
        ) as running:
            sample["metrics"] = measure(running, workload, settings)
            sample["log"] = str(running.log_path)
        sample["status"] = "ok"
    except ServerStartError as exc:
        sample.update(status="start_failed", reason=str(exc))
    except Exception as exc:  # record it and go on with the other samples
        sample.update(
            status="failed",
            reason=f"{type(exc).__name__}: {exc}",
            traceback=traceback.format_exc(limit=5),
        )
    return sample


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env_dir: Path = args.env_dir.resolve()
    work_dir: Path = (args.work_dir or env_dir / "work").resolve()
    interpreters = Interpreters(
        cog=args.cog_python or env_dir / "cog-venv" / "bin" / "python",
        cogrt=args.cogrt_python,
        ceiling=args.ceiling_python or env_dir / "ceiling-venv" / "bin" / "python",
    )
    raise_fd_limit()
    loadgen.wrk_path()  # fail fast when wrk is missing
    models = prepare_models(work_dir, interpreters.cog)
    logs = work_dir / "logs"
    shutil.rmtree(logs, ignore_errors=True)  # logs of this invocation only
    warm_bytecode(interpreters.cogrt, work_dir / "pycache")  # as running_server's cache
    settings = Settings(
        duration_s=args.duration,
        warmup_s=args.warmup,
        wrk_threads=args.wrk_threads,
        idle_settle_s=args.idle_settle,
        sse_repeats=args.sse_repeats,
        cancel_repeats=args.cancel_repeats,
        burn_seconds=args.burn_seconds,
        probe_timeout_s=args.probe_timeout,
    )
    samples: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for round_no in range(args.rounds):
        shift = round_no % len(args.servers)
        order = args.servers[shift:] + args.servers[:shift]
        for workload_name in args.workloads:
            for server in order:
                if server in skipped or not supports(server, WORKLOADS[workload_name]):
                    continue
                sample = run_sample(
                    args, interpreters, models, logs, settings, round_no, workload_name, server
                )
                samples.append(sample)
                status = sample["status"]
                brief = sample.get("reason", "")[:300].replace("\n", " ")
                print(
                    f"[round {round_no + 1}/{args.rounds}] {workload_name:<13} "
                    f"{server:<18} {status} {brief}",
                    file=sys.stderr,
                    flush=True,
                )
                if status == "start_failed":
                    skipped[server] = sample["reason"][:300].replace("\n", " ")
    summary = report.medians(samples)
    ratio_table = report.ratios(summary)
    table = report.markdown(summary, ratio_table, args.servers, skipped)
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": machine_info(interpreters),
                "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                "summary": summary,
                "ratios": ratio_table,
                "skipped": skipped,
                "samples": samples,
            },
            indent=2,
        )
        + "\n"
    )
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(table)
    print(table)
    print(f"results: {out}", file=sys.stderr)
    failed = [s for s in samples if s["status"] == "failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
