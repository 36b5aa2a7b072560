"""Two or more cogrt source trees served side by side, under the same wrk load, alternating.

Why: on this shared 2-core machine one server's figure moves by 20-50 % from
minute to minute, so "before" and "after" measured in separate runs compare
the machine's moods. Here every tree runs at once (one server each, on its
own port) and each round samples every tree at every level back to back,
in an order that alternates between rounds. Medians of the rounds are
reported, with each round's figure, successful answers/s, the server's CPU
per answer (all its threads, from ``/proc``) and wrk's p99.

    git worktree add /tmp/before <commit>
    python benchmarks/ab_trees.py --src /tmp/before/src --src src -- --queue 100
    python benchmarks/ab_trees.py --src /tmp/before/src --src src --model async_sleep \\
        --body '{"input":{"sleep_ms":50}}' --connections 1000

Arguments after ``--`` go to ``python -m cogrt`` (e.g. ``--queue 100``, ``--http uvicorn``).
Servers run unsupervised, with their bytecode cached as `run.py`'s are (`servers.running_command`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from loadgen import WrkResult, run_wrk
from procstats import tree_cpu_ms
from servers import HOST, RunningServer, free_port, running_command

HERE = Path(__file__).resolve().parent


def tree_server(
    stack: ExitStack, python: str, src: Path, model: Path, args: list[str], log_dir: Path
) -> RunningServer:
    """One unsupervised server of ``src`` (first on ``PYTHONPATH``), READY until ``stack`` ends."""
    port = free_port()
    command = [python, "-m", "cogrt", "--no-supervise", "--host", HOST, "--port", str(port), *args]
    env = {"PYTHONPATH": str(src.resolve())}
    return stack.enter_context(
        running_command(src.resolve().parent.name, port, command, env, model, log_dir)
    )


def sample(
    url: str, pid: int, body: str, connections: int, seconds: float
) -> tuple[WrkResult, float]:
    """One measured wrk run after one second of warm-up: its result and CPU µs per answer."""
    run_wrk(f"{url}/predictions", body, connections, 1)
    before = tree_cpu_ms(pid)
    result, _ = run_wrk(f"{url}/predictions", body, connections, seconds)
    return result, (tree_cpu_ms(pid) - before) * 1000 / max(result.requests, 1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--src", action="append", required=True, help="a tree's src folder (repeat)"
    )
    parser.add_argument("--model", default="echo", help="a folder of benchmarks/models")
    parser.add_argument("--body", default='{"input":{"text":"hi"}}')
    parser.add_argument(
        "--connections", default="1,8,64", help="comma list of wrk connection counts"
    )
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=float, default=4.0, help="seconds per measured sample")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("server_args", nargs="*", help="after --: arguments of python -m cogrt")
    options = parser.parse_args()
    levels = [int(c) for c in options.connections.split(",")]
    trees = [Path(src) for src in options.src]
    results: dict[tuple[int, int], list[tuple[WrkResult, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="cogrt-ab-") as scratch, ExitStack() as stack:
        model = HERE / "models" / options.model
        servers = [
            tree_server(
                stack, options.python, tree, model, options.server_args, Path(scratch) / "logs"
            )
            for tree in trees
        ]
        for round_ in range(options.rounds):
            for level in levels:
                order = list(enumerate(servers))
                for i, server in order if round_ % 2 == 0 else reversed(order):
                    got = sample(server.base_url, server.pid, options.body, level, options.duration)
                    results.setdefault((i, level), []).append(got)
    for level in levels:
        for i, tree in enumerate(trees):
            rows = results[(i, level)]
            ok = [result.rps_ok for result, _ in rows]
            print(
                f"c={level:<5} {tree!s:<24} ok/s {statistics.median(ok):7.0f}"
                f" ({' '.join(f'{x:.0f}' for x in ok)})"
                f"  CPU µs/answer {statistics.median(cpu for _, cpu in rows):5.0f}"
                f"  p99 ms {statistics.median(r.latency_p99_ms for r, _ in rows):7.1f}"
                f"  non-2xx {sum(r.requests - r.ok for r, _ in rows)}"
            )


if __name__ == "__main__":
    main()
