"""Launch, health-gate and stop the servers under test.

Why one module: every server is measured the same way (spawn in the model
folder, poll ``GET /health-check`` until READY, stop with SIGTERM then
SIGKILL), so their only difference is the command line built here.  Each
server gets its own session/process group so the whole tree (Cog's Python
worker included) can be signalled by group id, never by name.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from procstats import process_tree, start_time

HOST = "127.0.0.1"
CEILING_SCRIPT = Path(__file__).with_name("ceiling.py")
SERVER_NAMES = (
    "cog",
    "cogrt",
    "cogrt-uvicorn",
    "cogrt-queue",
    "cogrt-uvicorn-queue",
    "ceiling-hypercorn",
    "ceiling-uvicorn",
)
QUEUE = 100
"""``--queue`` of the ``-queue`` variants: room for every waiting connection of echo64."""
# The ceiling built on the same HTTP server as each server (for ratios).
CEILING_OF = {
    "cogrt": "ceiling-hypercorn",
    "cogrt-uvicorn": "ceiling-uvicorn",
    "cogrt-queue": "ceiling-hypercorn",
    "cogrt-uvicorn-queue": "ceiling-uvicorn",
    "ceiling-hypercorn": "ceiling-hypercorn",
    "ceiling-uvicorn": "ceiling-uvicorn",
}


@dataclass(frozen=True)
class Interpreters:
    """Python interpreters: Cog's venv, the repo's venv (cogrt) and the ceiling venv."""

    cog: Path
    cogrt: Path
    ceiling: Path


@dataclass(frozen=True)
class RunningServer:
    """A server that answered READY."""

    name: str
    pid: int
    base_url: str
    start_to_ready_ms: float
    log_path: Path


class ServerStartError(RuntimeError):
    """The server exited or never said READY before the deadline."""


def free_port() -> int:
    """A currently unused loopback TCP port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def server_environment(extra_env: dict[str, str], pycache: Path) -> dict[str, str]:
    """The environment a server runs in: bytecode cached for every server alike.

    With ``PYTHONDONTWRITEBYTECODE=1`` (set on this machine) an editable cogrt
    compiled its ~90 modules at every start (~100 ms) while Cog, installed from a
    wheel, loads cached bytecode; the cache under ``pycache`` puts both on equal
    terms, the way ``pip install cogrt`` would.
    """
    env = {**os.environ, **extra_env, "PYTHONPYCACHEPREFIX": str(pycache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def warm_bytecode(python: Path, pycache: Path) -> None:
    """Compile the cogrt that ``python`` imports into ``pycache`` before any start is timed."""
    env = server_environment({}, pycache)
    where = "import cogrt, os; print(os.path.dirname(cogrt.__file__))"
    package = subprocess.run(
        [str(python), "-c", where], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    subprocess.run([str(python), "-m", "compileall", "-q", package], env=env, check=True)


def launch_command(
    name: str,
    port: int,
    interpreters: Interpreters,
    predictor_ref: str,
    max_concurrency: int,
) -> tuple[list[str], dict[str, str]]:
    """Command line and extra environment for server ``name`` on ``port``."""
    env = {"COG_MAX_CONCURRENCY": str(max_concurrency)}
    if name == "cog":
        # coglet spawns its worker as plain `python`: the Cog venv must come first.
        env["PATH"] = f"{interpreters.cog.parent}{os.pathsep}{os.environ.get('PATH', '')}"
        env["COG_PREDICT_TYPE_STUB"] = predictor_ref
        env["PORT"] = str(port)
        return [str(interpreters.cog), "-m", "cog.server.http", "--host", HOST], env
    if name.startswith("cogrt"):
        command = [str(interpreters.cogrt), "-m", "cogrt", predictor_ref]
        command += ["--host", HOST, "--port", str(port)]
        if name.startswith("cogrt-uvicorn"):
            command += ["--http", "uvicorn"]
        if name.endswith("-queue"):
            command += ["--queue", str(QUEUE)]
        return command, env
    if name in ("ceiling-hypercorn", "ceiling-uvicorn"):
        command = [str(interpreters.ceiling), str(CEILING_SCRIPT)]
        command += ["--server", name.removeprefix("ceiling-"), "--host", HOST]
        command += ["--port", str(port), "--predictor", predictor_ref]
        command += ["--max-concurrency", str(max_concurrency)]
        return command, env
    raise ValueError(f"unknown server {name!r}; choose from {', '.join(SERVER_NAMES)}")


def health_status(base_url: str, timeout_s: float = 1.0) -> str | None:
    """The ``status`` field of GET /health-check, or None when unreachable."""
    try:
        with urllib.request.urlopen(f"{base_url}/health-check", timeout=timeout_s) as resp:
            return str(json.loads(resp.read()).get("status"))
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _log_tail(path: Path, limit: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


def _wait_ready(
    proc: subprocess.Popen[bytes], base_url: str, started: float, deadline_s: float, log: Path
) -> float:
    """Poll every 10 ms until READY; return ms since spawn."""
    deadline = started + deadline_s
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise ServerStartError(f"exited with {proc.returncode}: {_log_tail(log)}")
        if health_status(base_url, timeout_s=0.5) == "READY":
            return (time.perf_counter() - started) * 1000
        time.sleep(0.01)
    raise ServerStartError(f"not READY after {deadline_s:.0f} s: {_log_tail(log)}")


def _stop(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM the process group, SIGKILL it (and stray descendants) after ``grace_s``."""
    # Remember who the descendants are, so only they are killed if they outlive the group.
    tree = [(pid, start_time(pid)) for pid in process_tree(proc.pid)[1:]]
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    for pid, started in tree:  # descendants that left the group, if any
        if started is not None and start_time(pid) == started:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@contextmanager
def running_server(
    name: str,
    model_dir: Path,
    max_concurrency: int,
    interpreters: Interpreters,
    log_dir: Path,
    predictor_ref: str = "predict.py:Predictor",
    ready_timeout_s: float = 60.0,
    stop_grace_s: float = 10.0,
) -> Iterator[RunningServer]:
    """Start ``name`` in ``model_dir``, yield once READY, always stop it."""
    port = free_port()
    command, extra_env = launch_command(name, port, interpreters, predictor_ref, max_concurrency)
    with running_command(
        name, port, command, extra_env, model_dir, log_dir, ready_timeout_s, stop_grace_s
    ) as server:
        yield server


@contextmanager
def running_command(
    name: str,
    port: int,
    command: list[str],
    extra_env: dict[str, str],
    model_dir: Path,
    log_dir: Path,
    ready_timeout_s: float = 60.0,
    stop_grace_s: float = 10.0,
) -> Iterator[RunningServer]:
    """Run ``command`` (a server listening on ``port``) in ``model_dir``; yield once READY.

    Its output goes to a log under ``log_dir``, its bytecode to a cache beside it
    (``server_environment``); it is always stopped, with its whole process group.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{model_dir.name}-{port}.log"
    base_url = f"http://{HOST}:{port}"
    with log_path.open("wb") as log:
        started = time.perf_counter()
        try:
            proc = subprocess.Popen(
                command,
                cwd=model_dir,
                env=server_environment(extra_env, log_dir.parent / "pycache"),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise ServerStartError(f"cannot spawn {command[0]}: {exc}") from exc
        try:
            ready_ms = _wait_ready(proc, base_url, started, ready_timeout_s, log_path)
            yield RunningServer(name, proc.pid, base_url, ready_ms, log_path)
        finally:
            _stop(proc, stop_grace_s)
