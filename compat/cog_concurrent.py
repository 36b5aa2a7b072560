"""Cog's Go integration tests of ``integration-tests/concurrent``, as checks against cogrt.

    python compat/cog_concurrent.py [--python PY]

The four tests of ``concurrent_test.go`` (Cog at ``6110c912``), each against a
``python -m cogrt serve`` started in a temporary model folder, asserting what
the Go test asserts:

- ``TestConcurrentPredictions``: five 1 s predictions of an ``@concurrent(max=5)``
  async model at once, ``POST /shutdown`` 0.2 s later; all five succeed, in
  under 3 s together.
- ``TestConcurrentAboveLimit``: with ``concurrency.max: 2`` and two running, a
  third is refused with 409, ``status`` ``failed`` and an error naming capacity.
- ``TestConcurrentAsyncMetrics``: five concurrent predictions each see their
  own ``current_scope()`` metrics.
- ``TestSIGTERMDuringSetup``: SIGTERM while ``setup()`` sleeps ends the process,
  by that signal, within 15 s.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from txtar_script import free_port

SLEEPY = """import asyncio
from cog import BasePredictor, concurrent


class Predictor(BasePredictor):
    @concurrent(max=5)
    async def predict(self, s: str, sleep: float) -> str:
        await asyncio.sleep(sleep)
        return f"wake up {s}"
"""
METRICS = """import asyncio
from cog import BasePredictor, concurrent, current_scope


class Predictor(BasePredictor):
    @concurrent(max=5)
    async def predict(self, idx: int = 0, sleep: float = 0.5) -> str:
        scope = current_scope()
        scope.record_metric("prediction_index", idx)
        scope.record_metric("model_name", "test-model")
        await asyncio.sleep(sleep)
        scope.record_metric("completed", True)
        return f"done-{idx}"
"""
SLOW_SETUP = """import time
from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self) -> None:
        time.sleep(30)

    def predict(self, s: str) -> str:
        return "hello " + s
"""
COG_YAML = 'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n'


class CheckFailed(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


@contextmanager
def server(python: str, predict_py: str, cog_yaml: str = COG_YAML) -> Iterator[tuple[str, Any]]:
    """``(url, process)`` of a cogrt serving the model, in a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "predict.py").write_text(predict_py)
        (Path(folder) / "cog.yaml").write_text(cog_yaml)
        port = free_port()
        command = [python, "-m", "cogrt", "serve", "--host", "127.0.0.1", "--port", str(port)]
        process = subprocess.Popen(command, cwd=folder, stderr=subprocess.DEVNULL)
        try:
            yield f"http://127.0.0.1:{port}", process
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()


def health(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url + "/health-check", timeout=5) as response:
            status: str = json.loads(response.read())["status"]
            return status
    except (OSError, ValueError, KeyError):
        return None


def wait_status(url: str, wanted: set[str], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if health(url) in wanted:
            return True
        time.sleep(0.1)
    return False


def post(url: str, body: dict[str, Any] | None) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def concurrent_predictions(python: str) -> None:
    with server(python, SLEEPY) as (url, _):
        check(wait_status(url, {"READY"}, 60), "not READY within 60 s")
        started = time.monotonic()
        with ThreadPoolExecutor(5) as pool:
            body = {"input": {"sleep": 1.0}}
            runs = [
                pool.submit(
                    post,
                    url + "/predictions",
                    {**body, "id": f"id-{i}", "input": {**body["input"], "s": f"sleepyhead{i}"}},
                )
                for i in range(5)
            ]
            time.sleep(0.2)  # as the Go test: the shutdown arrives while all five run
            post(url + "/shutdown", None)
            results = [run.result() for run in runs]
        elapsed = time.monotonic() - started
        for i, (status, prediction) in enumerate(results):
            check(status == 200, f"prediction {i}: status {status}")
            check(
                prediction.get("output") == f"wake up sleepyhead{i}",
                f"prediction {i}: {prediction}",
            )
        check(elapsed < 3.0, f"five 1 s predictions took {elapsed:.2f} s, expected < 3 s")


def concurrent_above_limit(python: str) -> None:
    with server(python, SLEEPY, COG_YAML + "concurrency:\n  max: 2\n") as (url, _):
        check(wait_status(url, {"READY"}, 60), "not READY within 60 s")
        with ThreadPoolExecutor(2) as pool:
            for i in range(2):
                pool.submit(
                    post,
                    url + "/predictions",
                    {"id": f"id-{i}", "input": {"s": str(i), "sleep": 1.0}},
                )
            # The Go test polls at once; a poll that beats both predictions to a slot runs
            # for 1 s, so here the two are seen running (BUSY) first.
            check(wait_status(url, {"BUSY"}, 10), "two predictions never filled both slots")
            deadline = time.monotonic() + 10
            status, answer = 0, {}
            while time.monotonic() < deadline and status != 409:
                status, answer = post(
                    url + "/predictions", {"id": "extra", "input": {"s": "overflow", "sleep": 1.0}}
                )
                time.sleep(0.1)
        check(status == 409, f"extra prediction status {status}, expected 409")
        check(answer.get("status") == "failed", f"409 body status: {answer}")
        check("capacity" in str(answer.get("error", "")).lower(), f"409 body error: {answer}")


def concurrent_async_metrics(python: str) -> None:
    with server(python, METRICS) as (url, _):
        check(wait_status(url, {"READY"}, 60), "not READY within 60 s")
        with ThreadPoolExecutor(5) as pool:
            runs = [
                pool.submit(
                    post,
                    url + "/predictions",
                    {"id": f"metrics-{i}", "input": {"idx": i, "sleep": 0.5}},
                )
                for i in range(5)
            ]
            results = [run.result() for run in runs]
        for i, (status, prediction) in enumerate(results):
            metrics = prediction.get("metrics") or {}
            check(
                status == 200 and prediction.get("output") == f"done-{i}",
                f"prediction {i}: {prediction}",
            )
            check(metrics.get("prediction_index") == i, f"prediction {i}: metrics {metrics}")
            check(metrics.get("completed") is True, f"prediction {i}: metrics {metrics}")
            check(metrics.get("model_name") == "test-model", f"prediction {i}: metrics {metrics}")
            check("predict_time" in metrics, f"prediction {i}: metrics {metrics}")


def sigterm_during_setup(python: str) -> None:
    with server(python, SLOW_SETUP) as (url, process):
        check(wait_status(url, {"STARTING"}, 60), "never answered STARTING")
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(15)
        except subprocess.TimeoutExpired:
            raise CheckFailed("still running 15 s after SIGTERM") from None
        check(
            code == -signal.SIGTERM,
            f"exit status {code}, expected death by SIGTERM ({-signal.SIGTERM})",
        )


CHECKS: dict[str, Callable[[str], None]] = {
    "TestConcurrentPredictions": concurrent_predictions,
    "TestConcurrentAboveLimit": concurrent_above_limit,
    "TestConcurrentAsyncMetrics": concurrent_async_metrics,
    "TestSIGTERMDuringSetup": sigterm_during_setup,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--python", default=sys.executable, help="the interpreter running cogrt")
    args = parser.parse_args()
    failed = 0
    for name, run in CHECKS.items():
        try:
            run(args.python)
            print(f"PASS     {name}", flush=True)
        except CheckFailed as exc:
            failed += 1
            print(f"FAIL     {name}  ({exc})", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    os.environ.setdefault("COG_NO_UPDATE_CHECK", "1")
    sys.exit(main())
