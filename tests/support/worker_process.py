"""Real ``python -m cogrt worker`` processes for the queue tests, always reaped."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WorkerProcess", "Workers"]

PREDICTORS = Path(__file__).resolve().parent.parent / "worker" / "predictors"
READY = "reading stream"
HEALTH = re.compile(r"health check on http://[^:]+:(\d+)/health-check")


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log: Path
    name: str

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert self.process.poll() is None or text in self.output(), (
                f"worker {self.name} exited ({self.process.returncode}):\n{self.output()}"
            )
            assert time.monotonic() < deadline, f"{text!r} not logged:\n{self.output()}"
            time.sleep(0.02)

    def wait_exit(self, timeout: float = 30.0) -> int:
        return self.process.wait(timeout)

    def health_port(self) -> int:
        match = HEALTH.search(self.output())
        assert match is not None, self.output()
        return int(match.group(1))


class Workers:
    """Starts workers in ``tests/worker/predictors`` (its ``cog.yaml``); kills leftovers."""

    def __init__(self, redis_url: str, stream: str) -> None:
        self.redis_url = redis_url
        self.stream = stream
        self._tmp = tempfile.TemporaryDirectory(prefix="cogrt-workers-")
        self.started: list[WorkerProcess] = []

    def start(
        self, *args: str, ref: str = "models.py:Async", wait: bool = True, name: str | None = None
    ) -> WorkerProcess:
        name = name or f"w{len(self.started) + 1}"
        log = Path(self._tmp.name) / f"{name}.log"
        command = [
            sys.executable, "-m", "cogrt", "worker", ref,
            "--redis", self.redis_url, "--stream", self.stream, "--consumer", name, *args,
        ]  # fmt: skip
        env = {**os.environ, "LOG_FORMAT": "console", "COG_LOG_LEVEL": "info"}
        with log.open("wb") as sink:
            process = subprocess.Popen(command, cwd=PREDICTORS, stdout=sink, stderr=sink, env=env)
        worker = WorkerProcess(process, log, name)
        self.started.append(worker)
        if wait:
            worker.wait_for_output(READY)
        return worker

    def close(self) -> None:
        for worker in self.started:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGKILL)
            worker.process.wait(10)
        self._tmp.cleanup()


@contextmanager
def workers(redis_url: str, stream: str) -> Iterator[Workers]:
    pool = Workers(redis_url, stream)
    try:
        yield pool
    finally:
        pool.close()
