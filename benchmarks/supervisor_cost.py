"""What the supervisor adds to a runtime's start-up and memory, measured in the processes.

``startup.py`` times spawn -> READY end to end, where a busy 2-core machine
moves the figures by tens of ms between runs. This isolates the supervisor's
part, in a fresh interpreter per sample (interleaved, ``--runs`` of each):

* ``start``: wall ms ``supervisor.start()`` takes until the forked runtime
  runs on: the supervisor's setup, ``fork()``, the runtime's signal and
  descriptor resets and its import of ``signal`` and ``socket`` (modules it
  imports anyway: a supervised start only imports them earlier). Importing
  ``cogrt.supervisor`` is left out (both variants do it first). The
  supervisor's exec of a fresh image runs meanwhile in the other process;
* ``imports``: CPU ms and minor page faults of the runtime importing what
  serving needs, forked or not. The extra faults are the copy-on-write copies
  a forked child makes of memory it shares with the supervisor; ``cow`` is the
  cost of one, timed on 1000 pages of a forked child;
* ``pss``: the supervisor of a served ``models/echo`` (0.5 s after READY) next
  to an idle bare interpreter started as ``python -m`` at the same moment: the
  floor any Python process costs on this machine.

    python benchmarks/supervisor_cost.py --runs 15
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from procstats import pss_mib
from startup import MODEL, free_port, is_ready

SAMPLE = r"""
import json, resource, sys, time
from cogrt import supervisor
start = time.perf_counter()
if SUPERVISE:
    code = supervisor.start(["--port", "0"])
    if code is not None:  # the supervisor: its runtime exits right after printing
        sys.exit(0)
forked = time.perf_counter()
cpu, faults = time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
import cogrt.http.app, cogrt.cli, cogrt.http.server, hypercorn.asyncio, hypercorn.config, uvloop
print(json.dumps({
    "start": (forked - start) * 1000,
    "imports": (time.process_time() - cpu) * 1000,
    "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults,
}))
"""


def start_sample(python: str, supervise: bool) -> dict[str, float]:
    code = SAMPLE.replace("SUPERVISE", str(supervise))
    output = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    return dict(json.loads(output.splitlines()[-1]))


def cow_fault_us(pages: int = 1000) -> float:
    """Microseconds per copy-on-write fault: a forked child writing pages its parent wrote."""
    memory = mmap.mmap(-1, pages * mmap.PAGESIZE)
    for page in range(pages):
        memory[page * mmap.PAGESIZE] = 1
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        started = time.perf_counter()
        for page in range(pages):
            memory[page * mmap.PAGESIZE] = 2  # a fault and a copy per page
        faulting = time.perf_counter() - started
        started = time.perf_counter()
        for page in range(pages):
            memory[page * mmap.PAGESIZE] = 3  # the same loop, its pages now private
        os.write(write, str((faulting - (time.perf_counter() - started)) / pages * 1e6).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    os.close(write)
    with os.fdopen(read) as result:
        return float(result.read())


def pss_sample(python: str, idle_module: Path) -> tuple[float, float]:
    """(supervisor PSS, idle bare interpreter PSS) in MiB, read at the same moment."""
    port = free_port()
    command = [python, "-m", "cogrt", "predict.py:Predictor", "--host", "127.0.0.1"]
    server = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=MODEL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    idle = subprocess.Popen([python, "-m", idle_module.stem], cwd=idle_module.parent)
    try:
        deadline = time.monotonic() + 60
        while not is_ready(f"http://127.0.0.1:{port}/health-check"):
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the echo server did not become READY")
            time.sleep(0.005)
        time.sleep(0.5)
        return pss_mib(server.pid), pss_mib(idle.pid)
    finally:
        for process in (server, idle):
            process.terminate()
            process.wait(10)


def summary(label: str, values: list[float], unit: str) -> str:
    ordered = sorted(values)
    return f"{label} median {statistics.median(ordered):.2f} {unit} (min {ordered[0]:.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    start_sample(args.python, True)  # warm-up: bytecode cache, page cache
    starts: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    for _ in range(args.runs):
        for supervise in (True, False):
            starts[supervise].append(start_sample(args.python, supervise))
    for supervise, samples in starts.items():
        columns = [
            summary("start", [s["start"] for s in samples], "ms"),
            summary("imports", [s["imports"] for s in samples], "ms CPU"),
            summary("faults", [s["faults"] for s in samples], ""),
        ]
        print(f"supervised {'yes' if supervise else 'no ':3}  " + "  ".join(columns))
    print(summary("cow", [cow_fault_us() for _ in range(args.runs)], "us per fault"))
    with tempfile.TemporaryDirectory() as tmp:
        idle = Path(tmp) / "cogrt_idle_probe.py"
        idle.write_text("import time\ntime.sleep(120)\n")
        pss = [pss_sample(args.python, idle) for _ in range(max(3, args.runs // 3))]
    print(summary("supervisor PSS", [s for s, _ in pss], "MiB"), end="  ")
    print(summary("idle `python -m` PSS", [i for _, i in pss], "MiB"))


if __name__ == "__main__":
    main()
