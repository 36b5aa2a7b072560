"""The supervisor, with real processes: crashes, restarts on the same socket, stops, kills."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from cogrt.supervisor import entry
from tests.support.predictors import HTTP
from tests.support.server_process import Server, reaped, running
from tests.support.webhook_receiver import Receiver

SERVING = re.compile(r"cogrt serving on http://127\.0\.0\.1:(\d+) \(\w+, pid (\d+)\)")
SECRET = "whsec_" + base64.b64encode(b"supervisor-test-key").decode()
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def runtimes(server: Server) -> list[tuple[int, int]]:
    """(port, pid) of every runtime process that started serving, in order."""
    return [(int(port), int(pid)) for port, pid in SERVING.findall(server.output())]


def wait_for_runtimes(server: Server, count: int, timeout: float = 30) -> list[tuple[int, int]]:
    deadline = time.monotonic() + timeout
    while len(found := runtimes(server)) < count:
        assert time.monotonic() < deadline, f"{count} runtimes never served:\n{server.output()}"
        time.sleep(0.02)
    return found


def gone(pid: int) -> bool:
    """The process has exited (a zombie nobody reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat[stat.rindex(")") + 2] == "Z"


def wait_gone(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not gone(pid):
        assert time.monotonic() < deadline, f"process {pid} still runs"
        time.sleep(0.02)


def crash(server: Server, text: str) -> None:
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{server.url}/predictions", json={"input": {"text": text}}, timeout=30)


@pytest.mark.parametrize(
    ("ref", "text", "cause"),
    [
        ("crash_exit.py:Predictor", "exit", "exit 1"),
        ("crash_segfault.py:Predictor", "segfault", "killed by SIGSEGV"),
    ],
)
def test_a_crash_is_logged_and_the_runtime_restarts_on_the_same_port(
    ref: str, text: str, cause: str, http: str
) -> None:
    with running(ref, http=http) as server:
        [(port, first_pid)] = runtimes(server)
        assert first_pid != server.process.pid  # the runtime is the supervisor's child
        crash(server, text)
        server.wait_for_output(f"runtime process {first_pid} died ({cause})")
        [_, (again, second_pid)] = wait_for_runtimes(server, 2)
        server.wait_status("READY", timeout=30)
        response = httpx.post(f"{server.url}/predictions", json={"input": {"text": "back"}})
        assert (again, response.json()["output"]) == (port, "back")
        assert second_pid != first_pid and server.process.poll() is None


def test_crashes_in_quick_succession_are_restarted_with_a_growing_delay() -> None:
    with running("crash_exit.py:Predictor") as server:
        for delay in ("0", "0.5"):
            crash(server, "exit")
            server.wait_for_output(f"restarting it in {delay} s")
            server.wait_status("READY", timeout=30)
        assert len(runtimes(server)) == 3


def test_a_segfault_prints_where_it_happened() -> None:
    with running("crash_segfault.py:Predictor") as server:
        crash(server, "segfault")
        server.wait_for_output("killed by SIGSEGV")
        output = server.output()
    assert "Fatal Python error: Segmentation fault" in output
    assert re.search(r'File ".*crash_segfault\.py", line \d+ in predict', output), output


def test_a_request_sent_during_the_restart_waits_in_the_backlog_and_is_served(http: str) -> None:
    with (
        socket.create_server(("127.0.0.1", 0)) as gate,
        running("crash_blocking.py:Predictor", http=http) as server,
    ):
        gate.settimeout(30)
        host, port = server.url.removeprefix("http://").split(":")
        body = b'{"input":{"gate":%d}}' % gate.getsockname()[1]
        with socket.create_connection((host, int(port)), timeout=30) as doomed:
            doomed.sendall(
                b"POST /predictions HTTP/1.1\r\nHost: cogrt\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            held, _ = gate.accept()  # the predictor now blocks the runtime's loop
            with held, socket.create_connection((host, int(port)), timeout=30) as queued:
                queued.sendall(b"GET /health-check HTTP/1.1\r\nHost: cogrt\r\n\r\n")
                assert len(runtimes(server)) == 1  # nobody has accepted it yet
                held.sendall(b"x")  # the predictor calls os._exit(1)
                answer = queued.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200"), answer
        assert [p for p, _ in wait_for_runtimes(server, 2)] == [int(port)] * 2
        assert "died (exit 1)" in server.output()


async def test_an_async_prediction_in_flight_gets_a_failed_webhook_naming_the_crash(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COG_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    async with Receiver() as receiver:
        body = {"id": "doomed", "input": {"text": "exit"}, "webhook": receiver.url}
        with running("crash_exit.py:Predictor") as server:
            async with httpx.AsyncClient(timeout=30) as client:
                headers = {"Prefer": "respond-async", "traceparent": TRACEPARENT}
                created = await client.post(f"{server.url}/predictions", json=body, headers=headers)
                assert created.status_code == 202
                await receiver.wait_for(lambda hooks: any(h.terminal for h in hooks), timeout=30)
                server.process.send_signal(signal.SIGTERM)
            assert server.process.wait(30) == 0
    [hook] = receiver.terminal()
    payload = hook.payload
    assert (payload["id"], payload["status"], payload["input"]) == (
        "doomed",
        "failed",
        {"text": "exit"},
    )
    assert "exit 1" in payload["error"]
    assert payload["created_at"] and payload["started_at"] and payload["completed_at"]
    assert hook.headers["user-agent"].startswith("cogrt/")
    assert hook.headers["traceparent"] == TRACEPARENT
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = (
        f"{hook.headers['webhook-id']}.{hook.headers['webhook-timestamp']}.".encode() + hook.body
    )
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert hook.headers["webhook-signature"] == f"v1,{expected}"
    assert list(tmp_path.iterdir()) == []  # the supervisor removed its journals


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_no_supervise_gives_the_raw_exit_and_no_restart(
    how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["--no-supervise"] if how == "flag" else []
    if how == "environment":
        monkeypatch.setenv("COGRT_SUPERVISE", "0")
    with running("crash_exit.py:Predictor", *args) as server:
        [(_, pid)] = runtimes(server)
        assert pid == server.process.pid
        crash(server, "exit")
        assert server.process.wait(30) == 1
        assert len(runtimes(server)) == 1 and "cogrt.supervisor" not in server.output()


@pytest.mark.parametrize("supervised", [True, False])
def test_sigterm_during_setup_ends_the_process_by_sigterm(supervised: bool, tmp_path: Path) -> None:
    """Whatever started the server sees it die by the signal, not exit 0 (Cog's
    TestSIGTERMDuringSetup), without waiting for setup()."""
    command = [sys.executable, "-m", "cogrt", "setup_sleeps.py:Predictor", "--host", "127.0.0.1"]
    command += ["--port", "0", *([] if supervised else ["--no-supervise"])]
    log = tmp_path / "server.log"
    env = {**os.environ, "LOG_FORMAT": "console"}
    with log.open("wb") as sink:
        process = subprocess.Popen(command, cwd=HTTP.path, stdout=sink, stderr=sink, env=env)
    with reaped(process, log, wanted="STARTING") as server:
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(15) == -signal.SIGTERM, log.read_text()
    assert "SIGTERM received" in log.read_text()


def test_sigterm_to_the_supervisor_stops_the_runtime_gracefully() -> None:
    with running("http_sleep_steps.py:Predictor") as server:
        [(_, pid)] = runtimes(server)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(30) == 0
        wait_gone(pid)
        assert "second SIGTERM" not in server.output()


@pytest.mark.parametrize("first", ["runtime", "supervisor"])
def test_a_signal_to_the_whole_process_group_is_one_stop_not_two(first: str) -> None:
    with running("http_sleep_steps.py:Predictor") as server:
        [(_, pid)] = runtimes(server)
        # What killpg, Ctrl-C or systemd's KillMode=control-group do: both processes get it.
        order = [pid, server.process.pid] if first == "runtime" else [server.process.pid, pid]
        for target in order:
            os.kill(target, signal.SIGTERM)
        assert server.process.wait(30) == 0
        assert "exiting now" not in server.output()


def test_sigkill_to_the_supervisor_leaves_no_runtime_behind() -> None:
    with running("http_echo.py:Predictor") as server:
        [(_, pid)] = runtimes(server)
        server.process.kill()
        server.process.wait(10)
        wait_gone(pid)


def test_a_runtime_that_dies_before_it_is_ready_is_not_restarted() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        command = [sys.executable, "-m", "cogrt", "crash_at_import.py:Predictor"]
        command += ["--host", "127.0.0.1", "--port", "0"]
        env = {**os.environ, "LOG_FORMAT": "console"}
        with log.open("wb") as sink:
            done = subprocess.run(
                command, cwd=HTTP.path, stdout=sink, stderr=sink, env=env, timeout=60
            )
        output = log.read_text()
    assert done.returncode == 128 + signal.SIGSEGV, output
    assert len(SERVING.findall(output)) == 1, output
    assert "died before it was ready (killed by SIGSEGV); not restarting" in output
    assert "crash_at_import.py" in output  # faulthandler shows the import


def test_the_supervisor_imports_nothing_heavy() -> None:
    # What the exec'd supervisor (`python -S -I -c <bootstrap>`) loads beyond a bare one.
    here = str(Path(entry.__file__ or "").parent)
    bare = "import sys; print(' '.join(sorted(sys.modules)))"
    loaded = {}
    for name, code in (("bare", bare), ("supervisor", entry._PRELUDE + bare)):
        command = [sys.executable, "-S", "-I", "-c", code, here]
        loaded[name] = set(subprocess.check_output(command, text=True).split())
    assert loaded["supervisor"] - loaded["bare"] <= {
        "cogrt",  # an empty module object: cogrt/__init__.py does not run
        "cogrt.supervisor",  # likewise
        "cogrt.supervisor.loop",
        "cogrt.supervisor.policy",
        "__future__",
        "_socket",
        "select",
    }


def test_the_supervisor_execs_a_minimal_image_and_spawns_restarts_like_the_user_started_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])
    )
    with running("crash_exit.py:Predictor") as server:
        supervisor = server.process.pid
        deadline = time.monotonic() + 10
        while b"-I" not in (cmdline := Path(f"/proc/{supervisor}/cmdline").read_bytes()):
            assert time.monotonic() < deadline, cmdline
            time.sleep(0.02)
        here = str(Path(entry.__file__ or "").parent).encode()
        assert cmdline.split(b"\0")[1:6] == [
            b"-S",
            b"-I",
            b"-c",
            entry._BOOTSTRAP.encode(),
            here,
        ]
        for generation in (2, 3):  # 2 is spawned by the exec'd supervisor, and so is 3
            crash(server, "exit")
            wait_for_runtimes(server, generation)
            server.wait_status("READY", timeout=30)
        [(port, _), *restarts] = runtimes(server)
        assert [p for p, _ in restarts] == [port, port]
        probe = httpx.post(f"{server.url}/predictions", json={"input": {"text": "probe"}})
        assert probe.json()["output"] == (
            f"COGRT_SUPERVISED set: False, PYTHONPATH on sys.path: True, parent: {supervisor}"
        )
        assert server.process.poll() is None and "runtime process" in server.output()
