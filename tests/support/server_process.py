"""A real ``python -m cogrt`` on 127.0.0.1 port 0, found through its startup line.

It runs in ``tests/http/predictors``, like the CLI in a model's folder.
``raw_post`` is a request to send it over a raw socket.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .predictors import HTTP

STARTUP = re.compile(rb"serving on http://127\.0\.0\.1:(\d+)")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    log: Path
    headers: dict[str, str] = field(default_factory=dict)
    """Sent with the health checks this helper makes (an app behind auth middleware)."""

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
                    health = http.get(f"{self.url}/health-check", headers=self.headers)
                    status = health.json()["status"]
                except httpx.TransportError:
                    status = "unreachable"
                if status == wanted:
                    return
                assert time.monotonic() < deadline, f"health stayed {status}, wanted {wanted}"
                time.sleep(0.005)

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` for raw sockets."""
        host, port = self.url.removeprefix("http://").split(":")
        return host, int(port)


@contextmanager
def _maybe_client(client: httpx.Client | None) -> Iterator[httpx.Client]:
    if client is not None:
        yield client
        return
    with httpx.Client(timeout=5) as fresh:
        yield fresh


@contextmanager
def running(ref: str, *args: str, http: str = "hypercorn") -> Iterator[Server]:
    """``python -m cogrt`` on port 0: wait for READY (bounded), always reap the process."""
    command = [sys.executable, "-m", "cogrt", ref, "--host", "127.0.0.1", "--port", "0"]
    with spawned([*command, "--http", http, *args]) as server:
        yield server


@contextmanager
def spawned(command: list[str], headers: dict[str, str] | None = None) -> Iterator[Server]:
    """Any command that logs cogrt's startup line, run in ``predictors/`` like the CLI."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        env = {**os.environ, "LOG_FORMAT": "console", "COG_LOG_LEVEL": "info"}
        with log.open("wb") as sink:
            process = subprocess.Popen(command, cwd=HTTP.path, stdout=sink, stderr=sink, env=env)
        with reaped(process, log, headers=headers) as server:
            yield server


@contextmanager
def reaped(
    process: subprocess.Popen[bytes],
    log: Path,
    wanted: str = "READY",
    headers: dict[str, str] | None = None,
) -> Iterator[Server]:
    """A started server process whose startup line goes to ``log``, once it reports ``wanted``.

    Waits are bounded; the process is killed (if still running) and reaped on the way out.
    """
    try:
        server = Server(process, startup_url(process, log), log, dict(headers or {}))
        server.wait_status(wanted, timeout=30)
        yield server
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def startup_url(process: subprocess.Popen[bytes], log: Path) -> str:
    """The address from cogrt's startup line in ``log``, waited for (bounded)."""
    deadline = time.monotonic() + 20
    while (match := STARTUP.search(log.read_bytes())) is None:
        assert process.poll() is None, f"server exited:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no startup line:\n{log.read_text()}"
        time.sleep(0.02)
    return f"http://127.0.0.1:{int(match.group(1))}"


def raw_post(seconds: float) -> bytes:
    """A whole ``POST /predictions`` for the ``sleep``-style predictors, as raw HTTP/1.1 bytes."""
    payload = f'{{"input":{{"seconds":{seconds}}}}}'.encode()
    return (
        b"POST /predictions HTTP/1.1\r\nHost: cogrt\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
