"""What the interruptible blocking calls cost other threads, and what they buy a cancel.

``cogrt.runner.interruptible`` replaces ``time.sleep``, ``Condition.wait``
and ``Popen.wait``/``communicate`` process-wide while a runtime runs. On every
thread but the predicting one they look the thread up and call the original.
This times the calls that return at once (where only the overhead shows),
original and patched interleaved, ``--rounds`` times, in this process:

* ``sleep0``: ``time.sleep(0)``;
* ``event_set``: ``Event.wait()`` on a set event (no ``Condition.wait``);
* ``cond_wait0``: ``Condition.wait(0)`` under the lock;
* ``queue_get``: ``put`` then ``get`` on a ``queue.Queue`` (no waiting);
* ``queue_get_timeout``: ``Queue.get(timeout=0.0001)`` on an empty queue.

Then, with ``--cancels N``, what they buy: an in-process ``Runtime`` serving
a sync predictor that blocks for an hour in one of them; ms from
``prediction.cancel()`` to the prediction being ``canceled`` (its slot free),
median and max of N cancels each. No HTTP in between: ``run.py``'s
``cancel_sleep`` workload has the figure over HTTP beside Cog 0.23.1.

    python benchmarks/interruptible_cost.py --rounds 7 --cancels 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import queue
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any

from cogrt.runner import interruptible
from cogrt.runner.runtime import Runtime

_ENTERED = threading.Event()


class Blocking:
    """Blocks for an hour in the named call: only a cancel that interrupts it ends it."""

    def predict(self, how: str = "sleep") -> str:
        _ENTERED.set()
        if how == "sleep":
            time.sleep(3600)
        elif how == "event":
            threading.Event().wait(3600)
        elif how == "queue":
            queue.Queue().get(timeout=3600)
        elif how == "subprocess":
            subprocess.run(["sleep", "3600"], check=False)
        return how


async def _cancel_latencies(cancels: int) -> dict[str, Any]:
    report: dict[str, Any] = {}
    async with Runtime(Blocking) as runtime:
        if await runtime.wait_setup(30) != "READY":
            raise RuntimeError("the benchmark predictor did not set up")
        for how in ("sleep", "event", "queue", "subprocess"):
            samples: list[float] = []
            for _ in range(cancels):
                _ENTERED.clear()
                body = json.dumps({"input": {"how": how}}).encode()
                prediction = runtime.start(runtime.decode_request(body))
                if not await asyncio.to_thread(_ENTERED.wait, 30):
                    raise RuntimeError("predict() did not start")
                await asyncio.sleep(0.05)  # into the blocking call
                start = time.perf_counter()
                prediction.cancel()
                await asyncio.wait_for(prediction.wait(), 30)
                samples.append((time.perf_counter() - start) * 1000)
                if prediction.status != "canceled":
                    raise RuntimeError(f"{how}: ended {prediction.status}")
            report[how] = {
                "median_ms": round(statistics.median(samples), 3),
                "max_ms": round(max(samples), 3),
                "first_ms": round(samples[0], 3),
            }
    return report


def _cases() -> dict[str, tuple[Callable[[], object], int]]:
    event = threading.Event()
    event.set()
    cond = threading.Condition()
    fifo: queue.Queue[int] = queue.Queue()
    empty: queue.Queue[int] = queue.Queue()

    def cond_wait0() -> None:
        with cond:
            cond.wait(0)

    def queue_get() -> None:
        fifo.put(1)
        fifo.get()

    def queue_get_timeout() -> None:
        try:
            empty.get(timeout=0.0001)
        except queue.Empty:
            pass

    return {
        "sleep0": (lambda: time.sleep(0), 20000),
        "event_set": (event.wait, 20000),
        "cond_wait0": (cond_wait0, 20000),
        "queue_get": (queue_get, 20000),
        "queue_get_timeout": (queue_get_timeout, 500),
    }


def _ns_per_call(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(calls):
        fn()
    return (time.perf_counter_ns() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--cancels", type=int, default=0)
    args = parser.parse_args()
    samples: dict[str, dict[str, list[float]]] = {}
    for _ in range(args.rounds):
        for patched in (False, True):
            if patched:
                interruptible.install()
            try:
                for name, (fn, calls) in _cases().items():
                    by_mode = samples.setdefault(name, {"original": [], "patched": []})
                    by_mode["patched" if patched else "original"].append(_ns_per_call(fn, calls))
            finally:
                if patched:
                    interruptible.uninstall()
    report = {
        name: {
            "original_ns": round(statistics.median(s["original"])),
            "patched_ns": round(statistics.median(s["patched"])),
            "added_ns": round(statistics.median(s["patched"]) - statistics.median(s["original"])),
        }
        for name, s in samples.items()
    }
    print(json.dumps({"overhead": report}, indent=2))
    if args.cancels:
        cancels = asyncio.run(_cancel_latencies(args.cancels))
        print(json.dumps({"cancel_to_canceled": cancels}, indent=2))


if __name__ == "__main__":
    main()
