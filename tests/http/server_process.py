"""A real ``python -m cogrt`` on 127.0.0.1 port 0, found through its startup line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from .helpers import PREDICTORS

STARTUP = re.compile(rb"serving on http://127\.0\.0\.1:(\d+)")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output():
            assert time.monotonic() < deadline, f"{text!r} not logged:\n{self.output()}"
            time.sleep(0.02)

    def wait_status(
        self, wanted: str, timeout: float = 10.0, client: httpx.Client | None = None
    ) -> None:
        """Poll ``/health-check`` until it reports ``wanted``, within ``timeout``."""
        deadline = time.monotonic() + timeout
        with _maybe_client(client) as http:
            while True:
                try:
                    status = http.get(f"{self.url}/health-check").json()["status"]
                except httpx.TransportError:
                    status = "unreachable"
                if status == wanted:
                    return
                assert time.monotonic() < deadline, f"health stayed {status}, wanted {wanted}"
                time.sleep(0.005)


@contextmanager
def _maybe_client(client: httpx.Client | None) -> Iterator[httpx.Client]:
    if client is not None:
        yield client
        return
    with httpx.Client(timeout=5) as fresh:
        yield fresh


@contextmanager
def running(ref: str, *args: str, http: str = "hypercorn") -> Iterator[Server]:
    """Start the server, wait for READY (bounded), and always reap the process."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        env = {**os.environ, "LOG_FORMAT": "console", "COG_LOG_LEVEL": "info"}
        command = [sys.executable, "-m", "cogrt", ref, "--host", "127.0.0.1", "--port", "0"]
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [*command, "--http", http, *args], cwd=PREDICTORS, stdout=sink, stderr=sink, env=env
            )
        try:
            server = Server(process, _url(process, log), log)
            server.wait_status("READY", timeout=30)
            yield server
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(10)


def _url(process: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 20
    while (match := STARTUP.search(log.read_bytes())) is None:
        assert process.poll() is None, f"server exited:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no startup line:\n{log.read_text()}"
        time.sleep(0.02)
    return f"http://127.0.0.1:{int(match.group(1))}"
