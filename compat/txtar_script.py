"""One Cog txtar integration test, run against cogrt instead of a Docker image.

Cog's tests (``integration-tests/tests/*.txtar`` in replicate/cog) are
testscript files: a script, then the files of a model folder. Their commands
run here as Cog's Go harness runs them, with ``cog`` mapped onto cogrt:

- ``cog build``: ``python -m cogrt schema`` (loads the model, builds its schema);
- ``cog predict`` / ``cog run`` / ``cog train`` ``[IMAGE] ARGS``: ``python -m cogrt
  predict`` / ``train`` ``ARGS``;
- ``docker inspect IMAGE`` of the schema label: ``python -m cogrt schema``, through a
  stand-in ``docker`` on ``PATH`` (any other docker command fails);
- ``cog serve ARGS``: ``python -m cogrt serve --host 127.0.0.1 --port P ARGS``, waited for
  as the harness waits;
- ``curl [-H K:V] METHOD PATH [BODY]``: the request, retried 10 times 0.5 s apart while
  it fails;
- ``webhook-server-*``, ``upload-server-*``: :mod:`receivers`.

A test needing what cogrt does not do (Docker, a registry, ``cog exec``,
``cog doctor``, weights management, a PTY) is skipped, naming what it needed.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from receivers import UploadTarget, WebhookReceiver

__all__ = ["Failed", "Script", "Skipped", "free_port", "parse_txtar"]

UNSUPPORTED_COG = {"exec", "doctor", "weights", "init", "push", "debug", "login"}
UNSUPPORTED = {"docker-run", "registry-start", "registry-inspect", "registry-seed", "docker-push"}
UNSUPPORTED |= {"pty-run", "wait-for"}
CONDITIONS = {"short": False, "linux": True, "amd64": True, "unix": True}
_SCHEMA_LABEL = "run.cog.openapi_schema"
"""The image label holding the schema ``cog build`` made: ``cogrt schema`` prints cogrt's."""
_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


class Skipped(Exception):
    """The test needs something cogrt does not do."""


class Failed(Exception):
    """An assertion of the test did not hold."""


def parse_txtar(text: str) -> tuple[str, dict[str, str]]:
    """The script and the archive's files (name -> content)."""
    parts = re.split(r"^-- (.+?) --$\n?", text, flags=re.M)
    return parts[0], {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def expand(text: str, env: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)


def split_words(line: str, env: dict[str, str]) -> list[str]:
    """testscript's words: single quotes keep spaces and stop ``$VAR`` expansion."""
    words: list[str] = []
    word, started, i = "", False, 0
    while i < len(line):
        char = line[i]
        if char == "'":
            end = line.index("'", i + 1)
            while end + 1 < len(line) and line[end + 1] == "'":  # '' is a quote
                end = line.index("'", end + 2)
            word += line[i + 1 : end].replace("''", "'")
            started, i = True, end + 1
        elif char in " \t":
            if started:
                words.append(word)
            word, started, i = "", False, i + 1
        elif char == "#" and not started:
            break
        else:
            match = _VARIABLE.match(line, i) if char == "$" else None
            word += expand(match.group(0), env) if match else char
            started, i = True, (match.end() if match else i + 1)
    if started:
        words.append(word)
    return words


class Script:
    """The state of one running test: its folder, environment, last output and servers."""

    def __init__(self, name: str, work: Path, python: str, host: str) -> None:
        self.work = self.cwd = work
        self.python = python
        self.host = host
        self.env = {
            "WORK": str(work),
            "HOME": str(work / ".home"),
            "TMPDIR": str(work / ".tmp"),
            "PATH": os.environ["PATH"],
            "TEST_IMAGE": f"cog-test-{name[:24].replace('_', '-')}",
            "COG_NO_UPDATE_CHECK": "1",
        }
        (work / ".home").mkdir()
        (work / ".tmp").mkdir()
        self._install_docker_stand_in(work / ".bin")
        self.stdout = self.stderr = ""
        self.server: subprocess.Popen[bytes] | None = None
        self.server_log = work / ".server.log"
        self.webhooks: WebhookReceiver | None = None
        self.uploads: UploadTarget | None = None
        self.line = ""

    def _install_docker_stand_in(self, folder: Path) -> None:
        """A ``docker`` that answers only ``inspect`` of the schema label, with cogrt's schema."""
        folder.mkdir()
        stand_in = folder / "docker"
        stand_in.write_text(
            f"#!/bin/sh\n"
            f'case "$*" in inspect*{_SCHEMA_LABEL}*) exec "{self.python}" -m cogrt schema ;; esac\n'
            f'echo "docker is not available to these tests (compat/txtar_script.py)" >&2\n'
            f"exit 1\n"
        )
        stand_in.chmod(0o755)
        self.env["PATH"] = f"{folder}{os.pathsep}{self.env['PATH']}"

    def run(self, script: str) -> None:
        stdin: str | None = None
        for number, raw in enumerate(script.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#") or not self._conditions_hold(line):
                continue
            line = re.sub(r"^(\[[^\]]*\]\s*)+", "", line)
            negated = line.startswith("!")
            words = split_words(line.lstrip("! "), self.env)
            self.line = f"line {number}: {raw.strip()}"
            stdin = self._command(words[0], words[1:], negated, stdin)

    def close(self) -> None:
        self._stop_server()
        for helper in (self.webhooks, self.uploads):
            if helper is not None:
                helper.close()

    def _conditions_hold(self, line: str) -> bool:
        prefix = re.match(r"^(\[[^\]]*\]\s*)*", line)
        for name in re.findall(r"\[([^\]]*)\]", prefix.group(0) if prefix else ""):
            wanted = not name.startswith("!")
            name = name.lstrip("!")
            if name.startswith("exec:"):
                value = shutil.which(name[5:]) is not None
            elif name in CONDITIONS:
                value = CONDITIONS[name]
            else:
                raise Skipped(f"condition [{name}]")
            if value != wanted:
                return False
        return True

    def _command(self, name: str, args: list[str], negated: bool, stdin: str | None) -> Any:
        if name == "skip":
            raise Skipped(" ".join(args) or "skip")
        if name in UNSUPPORTED:
            raise Skipped(name)
        if name == "cog" and args[0] == "serve":
            self._serve(args[1:], negated)
        elif name == "cog":
            self._exec(self._cog(args), negated, stdin)
        elif name == "exec":
            if shutil.which(args[0], path=self.env["PATH"]) is None:
                raise Skipped(f"exec {args[0]}")
            self._exec(args, negated, stdin)
        elif name == "stdin":
            return (self.cwd / args[0]).read_text()
        elif name in ("stdout", "stderr"):
            self._match(name, args, negated)
        elif name == "curl":
            self._curl(args, negated)
        else:
            self._builtin(name, args, negated)
        return None

    def _builtin(self, name: str, args: list[str], negated: bool) -> None:
        if name == "env":
            self.env.update(arg.partition("=")[::2] for arg in args)
        elif name == "mkdir":
            for arg in args:
                (self.cwd / arg).mkdir(parents=True, exist_ok=True)
        elif name == "rm":
            for arg in args:
                path = self.cwd / arg
                shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        elif name == "cp":
            shutil.copy(self.cwd / args[0], self.cwd / args[1])
        elif name == "cd":
            self.cwd = self.cwd / args[0]
        elif name == "exists":
            for arg in (a for a in args if not a.startswith("-")):
                if (self.cwd / arg).exists() == negated:
                    raise Failed(f"{'! ' * negated}exists {arg}")
        elif name == "grep":
            text = (self.cwd / args[-1]).read_text()
            if bool(re.search(args[-2], text, re.M)) == negated:
                raise Failed(f"{'! ' * negated}grep {args[-2]!r} {args[-1]}")
        elif name == "webhook-server-start":
            self.webhooks = WebhookReceiver(self.host)
            self.env["WEBHOOK_URL"] = self.webhooks.url
        elif name == "webhook-server-wait":
            result = (
                self.webhooks.wait(_seconds(args[0] if args else "120s")) if self.webhooks else None
            )
            if result is None:
                raise Failed("webhook-server-wait: no terminal webhook")
            self.stdout = json.dumps(result, separators=(",", ":")) + "\n"
        elif name == "upload-server-start":
            self.uploads = UploadTarget(self.host)
            self.env["UPLOAD_SERVER_URL"] = self.uploads.url
        elif name == "upload-server-count":
            got = len(self.uploads.uploads) if self.uploads else 0
            if (got == int(args[0])) == negated:
                raise Failed(f"upload-server-count: {got} uploads, expected {args[0]}")
        elif name == "server-stop":
            self._stop_server()
        else:
            raise Skipped(f"command {name}")

    def _cog(self, args: list[str]) -> list[str]:
        command, rest = args[0], args[1:]
        if command in UNSUPPORTED_COG:
            raise Skipped(f"cog {command}")
        if command == "build":
            return [self.python, "-m", "cogrt", "schema"]
        if command in ("predict", "run", "train"):
            if rest and rest[0] == self.env["TEST_IMAGE"]:
                rest = rest[1:]
            if command == "run" and rest and not rest[0].startswith("-"):
                raise Skipped("cog run COMMAND (older Cog; now cog exec)")
            return [self.python, "-m", "cogrt", "train" if command == "train" else "predict", *rest]
        raise Skipped(f"cog {command}")

    def _exec(self, command: list[str], negated: bool, stdin: str | None) -> None:
        done = subprocess.run(
            command,
            cwd=self.cwd,
            env=self.env,
            input=stdin or "",
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.stdout, self.stderr = done.stdout, done.stderr
        if (done.returncode == 0) == negated:
            expected = "failure" if negated else "success"
            raise Failed(f"exit status {done.returncode}, expected {expected}{self._outputs()}")

    def _serve(self, args: list[str], negated: bool) -> None:
        if self.server is not None:
            raise Failed("server already running")
        port = free_port()
        command = [
            self.python,
            "-m",
            "cogrt",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *args,
        ]
        with self.server_log.open("wb") as log:
            self.server = subprocess.Popen(
                command,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.env["SERVER_URL"] = f"http://127.0.0.1:{port}"
        healthy = self._wait_healthy(120.0)
        if healthy == negated:
            raise Failed("server became healthy" if healthy else "server did not become healthy")

    def _wait_healthy(self, timeout: float) -> bool:
        """As the harness: READY, UNHEALTHY or BUSY is healthy; SETUP_FAILED or DEFUNCT is not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    self.env["SERVER_URL"] + "/health-check", timeout=5
                ) as r:
                    status = json.loads(r.read()).get("status")
            except (OSError, ValueError):
                status = None
            if status in ("READY", "UNHEALTHY", "BUSY"):
                return True
            if status in ("SETUP_FAILED", "DEFUNCT") or (
                self.server and self.server.poll() is not None
            ):
                return False
            time.sleep(0.2)
        return False

    def _stop_server(self) -> None:
        if self.server is None:
            return
        request = urllib.request.Request(self.env["SERVER_URL"] + "/shutdown", method="POST")
        try:
            urllib.request.urlopen(request, timeout=2).close()
        except OSError:
            pass
        try:
            self.server.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait()
        # What the model started and left running (setup_subprocess_* daemonize a child) ends
        # with the server, as in Cog, whose container takes it down.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.server.pid, signal.SIGKILL)
        self.server = None

    def _curl(self, args: list[str], negated: bool) -> None:
        headers: dict[str, str] = {}
        while len(args) >= 2 and args[0] == "-H":
            key, _, value = args[1].partition(":")
            headers[key.strip()] = value.strip()
            args = args[2:]
        method, path = args[0], args[1]
        body = expand(args[2], self.env) if len(args) > 2 else None
        if body and body.startswith("@"):
            body = (self.cwd / body[1:]).read_text()
        if body:
            headers["Content-Type"] = "application/json"
        last = ""
        for attempt in range(10):
            data = body.encode() if body is not None else None
            request = urllib.request.Request(
                self.env["SERVER_URL"] + path, data, headers, method=method
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    status, text = response.status, response.read().decode()
            except urllib.error.HTTPError as error:
                status, text = error.code, error.read().decode()
            except OSError as error:
                status, text = 0, str(error)
            if status and (200 <= status < 300) != negated:
                self.stdout, self.stderr = ("", text) if negated else (text, "")
                return
            last = f"status {status}: {text[:500]}"
            if attempt < 9:
                time.sleep(0.5)
        raise Failed(f"curl {method} {path}: 10 attempts, last {last}")

    def _match(self, stream: str, args: list[str], negated: bool) -> None:
        count = int(args.pop(0).split("=", 1)[1]) if args[0].startswith("-count=") else None
        text = self.stdout if stream == "stdout" else self.stderr
        found = len(re.findall(args[0], text, re.M))
        if count is not None and found != count:
            raise Failed(
                f"{stream} {args[0]!r}: {found} matches, expected {count}{self._outputs()}"
            )
        if count is None and bool(found) == negated:
            raise Failed(f"{'! ' * negated}{stream} {args[0]!r}{self._outputs()}")

    def _outputs(self) -> str:
        return f"\n--- stdout ---\n{self.stdout[-2000:]}\n--- stderr ---\n{self.stderr[-2000:]}"


def _seconds(duration: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(ms|s|m)?", duration).groups()  # type: ignore[union-attr]
    return float(value) * {"ms": 0.001, "m": 60.0}.get(unit or "s", 1.0)


def free_port() -> int:
    """A free TCP port on loopback, for a server to listen on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
