"""What the load goes to: a fresh ``python -m cogrt`` for the model in this folder, or a URL.

A spawned server runs unsupervised (``--no-supervise``: the pid measured is
the one serving) on a free loopback port, in its own process group, with its
output in a temporary log file shown when it fails. It is ready when
``/health-check`` says ``READY``; ``SETUP_FAILED`` or an exit before that is a
``BenchError`` carrying the setup logs or the log's tail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec

from cogrt.bench.client import build_request, open_connection
from cogrt.errors import BenchError, HttpClientError

__all__ = ["HttpTarget", "get", "parse_url", "spawn_server", "wait_ready"]

HOST = "127.0.0.1"


@dataclass
class HttpTarget:
    host: str
    port: int
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_tail(self, limit: int = 3000) -> str:
        if self.log is None:
            return ""
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-limit:]
        return ""

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the server's process group, SIGKILL it after ``grace`` seconds; remove
        its log (a failure's message already quoted it)."""
        process = self.process
        try:
            if process is not None and process.poll() is None:
                self._terminate(process, grace)
        finally:
            if self.log is not None:
                self.log.unlink(missing_ok=True)

    @staticmethod
    def _terminate(process: subprocess.Popen[bytes], grace: float) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def parse_url(url: str) -> HttpTarget:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise BenchError(f"--url {url!r}: expected http://HOST:PORT (https is not supported)")
    if parts.path not in ("", "/"):
        raise BenchError(f"--url {url!r}: give the server's root, without a path")
    return HttpTarget(parts.hostname, parts.port or 80)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the bench dies, even by SIGKILL (Linux)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def spawn_server(ref: str | None, http: str, extra: list[str]) -> HttpTarget:
    """Start ``python -m cogrt [REF]`` in the current folder on a free loopback port."""
    port = _free_port()
    command = [sys.executable, "-m", "cogrt", *([ref] if ref else [])]
    command += ["--host", HOST, "--port", str(port), "--http", http, "--no-supervise", *extra]
    fd, name = tempfile.mkstemp(prefix="cogrt-bench-server-", suffix=".log")
    with os.fdopen(fd, "wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    return HttpTarget(HOST, port, process, Path(name))


async def get(target: HttpTarget, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """One GET on a fresh connection (readiness, schema): status and body."""
    connection = await asyncio.wait_for(open_connection(target.host, target.port), timeout)
    try:
        data = build_request("GET", path, f"{target.host}:{target.port}", None)
        response = await asyncio.wait_for(connection.request(data), timeout)
        return response.status, response.body
    finally:
        connection.close()


async def wait_ready(target: HttpTarget, timeout: float) -> None:
    """Poll ``/health-check`` every 20 ms until ``READY``, for ``timeout`` seconds at most."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if target.process is not None and target.process.poll() is not None:
            raise BenchError(
                f"the server exited with status {target.process.returncode} before it was"
                f" ready; its output:\n{target.log_tail()}"
            )
        try:
            status, body = await get(target, "/health-check", timeout=2.0)
        except (OSError, HttpClientError, asyncio.TimeoutError) as exc:
            last = f"unreachable ({exc or type(exc).__name__})"
            if target.process is None:  # a URL the user gave: no point waiting for it
                raise BenchError(f"{target.url} is unreachable: {last}") from None
        else:
            health = _json(body)
            state = str(health.get("status", f"HTTP {status}"))
            if state in ("READY", "BUSY"):  # BUSY: ready, every slot taken
                return
            if state == "SETUP_FAILED":
                logs = health.get("setup", {}).get("logs", "")
                raise BenchError(f"the model's setup failed:\n{logs}")
            last = state
        await asyncio.sleep(0.02)
    raise BenchError(f"{target.url} was not READY after {timeout:g} s (last: {last})")


def _json(body: bytes) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return {}
    return value if isinstance(value, dict) else {}
