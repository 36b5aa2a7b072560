"""The supervisor: ``python -m cogrt`` keeps serving when user code kills the interpreter.

A predictor can end the process where no ``try`` reaches: ``os._exit()``, a
segfault in a C extension, the OOM killer. The runtime stays one process;
serving runs it as the child of a small supervisor that

* holds the listening socket the whole time, so clients wait in the kernel's
  backlog while a runtime restarts instead of being refused;
* logs why a runtime died (``exit 1``, ``killed by SIGSEGV``; the runtime
  prints where, with :mod:`faulthandler`) and starts a new one: at once after
  a first crash, then after a delay that doubles while crashes come less than
  ``STABLE_SECONDS`` apart (capped at ``MAX_DELAY``);
* passes SIGTERM and SIGINT on as messages, not signals: when a whole process
  group is signalled (Ctrl-C, systemd's default ``KillMode``) the runtime
  must see one stop, not two (a second signal means "exit now");
* exits with the runtime's status when the runtime stops on request, or when
  it dies before it was ever ready (a model that crashes while loading would
  only crash again): orchestrators see those failures as they are.

It forks before anything heavy is imported, so it costs a bare interpreter's
memory (benchmarks/README.md has the figures), and the runtime pays no second
interpreter start-up. The first runtime binds the socket exactly as an
unsupervised one does (``--port``, ``$PORT``, ``cog.yaml``'s environment) and
hands the supervisor a copy; later runtimes inherit it across ``fork``. Each
runtime keeps a crash journal (:mod:`cogrt.journal`) in a directory the
supervisor names; after a crash the next runtime sends the dead one's
in-flight predictions a terminal ``failed`` webhook. The runtime's side of
all this is :mod:`cogrt.supervised`.

Control messages, one byte each, on a socket pair per runtime. Runtime to
supervisor: ``L`` listening (the first runtime's carries the socket), ``R``
ready, ``S`` stopping on request, ``E`` ignores SIGTERM
(``--await-explicit-shutdown``). Supervisor to runtime: ``T`` SIGTERM and
``I`` SIGINT received.

Off with ``--no-supervise`` or ``COGRT_SUPERVISE=0`` (under systemd or
Kubernetes, which restart the process themselves), and where there is no
``fork``. This module runs in the supervisor, which must stay small: it
imports ``select``, ``signal`` and ``socket`` and what those and the
interpreter load anyway (``tests/http/test_supervisor.py`` pins the list).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Iterable, Mapping, Sequence

__all__ = [
    "MAX_DELAY",
    "STABLE_SECONDS",
    "Inheritance",
    "describe_exit",
    "inherited",
    "main",
    "restart_delay",
    "start",
    "supervision_wanted",
]

STABLE_SECONDS = 60.0
"""A runtime that was ready this long before it died counts as a first crash again."""
MAX_DELAY = 30.0
"""The longest wait before restarting a runtime that keeps crashing, in seconds."""
_FIRST_DELAY = 0.5
_STOP_SIGNALS = {signal.SIGTERM: b"T", signal.SIGINT: b"I"}
_HANDLED: tuple[int, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGCHLD") if hasattr(signal, name)
)  # Windows has no SIGCHLD, and no fork: it never supervises
_OFF = frozenset({"0", "false", "no", "off"})
_LEVELS = {"debug": 10, "info": 20, "warn": 30, "warning": 30, "error": 40}
_LEVEL_NAMES = {20: "INFO", 30: "WARNING", 40: "ERROR"}
_JSON_ESCAPES = {ord('"'): '\\"', ord("\\"): "\\\\"} | {c: f"\\u{c:04x}" for c in range(32)}


class Inheritance:
    """What a runtime process gets from its supervisor when it is forked."""

    __slots__ = ("causes", "control", "generation", "journal_dir", "listen_fd", "supervisor_pid")

    def __init__(
        self,
        control: socket.socket,
        listen_fd: int | None,
        journal_dir: str,
        generation: int,
        causes: dict[int, str],
        supervisor_pid: int,
    ) -> None:
        self.control = control
        """The runtime's end of the control socket pair."""
        self.listen_fd = listen_fd
        """The listening socket, once a previous runtime has bound it."""
        self.journal_dir = journal_dir
        self.generation = generation
        """1 for the first runtime, then one more per restart: names its journal."""
        self.causes = causes
        """Why each earlier runtime died, by generation: the failed webhooks name it."""
        self.supervisor_pid = supervisor_pid


_inherited: Inheritance | None = None


def inherited() -> Inheritance | None:
    """The supervisor's hand-over in a supervised runtime process; ``None`` elsewhere."""
    return _inherited


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cogrt`` and the ``cogrt`` script: the CLI, under a supervisor when serving."""
    args = list(sys.argv[1:] if argv is None else argv)
    code = start(args)
    if code is not None:
        return code
    from cogrt.cli import main as cli_main

    return cli_main(args)


def start(argv: Sequence[str]) -> int | None:
    """Supervise if ``argv`` serves; returns ``None`` in the process that should run the CLI.

    That process is a forked runtime, or this one when supervision is off.
    In the supervisor the call returns its exit status, after the last runtime.
    """
    if not supervision_wanted(argv, os.environ):
        return None
    supervisor = _Supervisor()
    while True:
        try:
            if supervisor.fork_runtime():
                return None  # in the new runtime: on to the CLI
        except OSError as exc:  # fork() or socketpair(): out of processes or memory
            supervisor.log(40, f"cannot start a runtime process: {exc}")
            supervisor.close()
            return 1
        code = supervisor.watch()
        if code is not None:
            supervisor.close()
            return code


def supervision_wanted(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Serving, on a platform with ``fork``, and neither ``--no-supervise`` nor
    ``COGRT_SUPERVISE=0``. ``--no-supervise`` may be abbreviated as argparse allows:
    no other serve option starts with ``--n``."""
    if not hasattr(os, "fork") or environ.get("COGRT_SUPERVISE", "").strip().lower() in _OFF:
        return False
    if argv and argv[0] in ("schema", "predict"):
        return False
    for arg in argv:
        if arg == "--":
            break
        if arg.startswith("--n") and "--no-supervise".startswith(arg):
            return False
    return True


def describe_exit(status: int) -> tuple[str, int]:
    """A wait status as words for logs and webhooks, and as a shell-style exit code."""
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return f"exit {code}", code
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return f"killed by {name}", 128 - code


def restart_delay(earlier_crashes: int) -> float:
    """Seconds before a restart that follows ``earlier_crashes`` crashes in a row, each less
    than ``STABLE_SECONDS`` after its runtime was ready: none for a first crash, then 0.5 s
    doubling up to ``MAX_DELAY``."""
    if earlier_crashes <= 0:
        return 0.0
    return min(_FIRST_DELAY * (1 << min(earlier_crashes - 1, 16)), MAX_DELAY)


class _Runtime:
    """The supervisor's view of one runtime process."""

    def __init__(self, pid: int, generation: int, control: socket.socket) -> None:
        self.pid = pid
        self.generation = generation
        self.control: socket.socket | None = control
        self.listening = False
        self.ready_at: float | None = None
        self.stopping = False


class _Supervisor:
    """The supervisor's state across runtimes; single-threaded, no event loop."""

    def __init__(self) -> None:
        self.log = _Log(os.environ)
        self._listen_fd: int | None = None
        tmp = os.environ.get("TMPDIR") or "/tmp"
        self._journal_dir = os.path.join(tmp, f"cogrt-journal-{os.getpid()}-{os.urandom(6).hex()}")
        self._generation = 0
        self._causes: dict[int, str] = {}
        self._ignore_sigterm = False
        self._stopping = False
        self._quick_crashes = 0
        self._runtime: _Runtime | None = None
        # Signals wake the select() loop through this pipe (the byte is the signal number).
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        for signum in _HANDLED:
            signal.signal(signum, _ignore)
        signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)

    def fork_runtime(self) -> bool:
        """Start a runtime process; ``True`` in it, ``False`` here."""
        self._generation += 1
        ours, theirs = socket.socketpair()
        # Blocked across fork, so no signal reaches a handler of the wrong process.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _HANDLED)
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            ours.close()
            theirs.close()
            raise
        if pid == 0:
            self._become_runtime(ours, theirs, mask)
            return True
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        theirs.close()
        self._runtime = _Runtime(pid, self._generation, ours)
        if self._generation > 1:
            self.log(20, f"runtime process {pid} started (restart {self._generation - 1})")
        return False

    def _become_runtime(
        self, ours: socket.socket, theirs: socket.socket, mask: Iterable[int]
    ) -> None:
        global _inherited
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(self._wake_r)
        os.close(self._wake_w)
        ours.close()
        _inherited = Inheritance(
            theirs,
            self._listen_fd,
            self._journal_dir,
            self._generation,
            dict(self._causes),
            os.getppid(),
        )

    def watch(self) -> int | None:
        """Wait for the runtime to end; the exit status, or ``None`` to start another."""
        runtime = self._runtime
        assert runtime is not None
        status = self._wait(runtime)
        self._runtime = None
        if runtime.control is not None:
            self._drain(runtime)
        cause, code = describe_exit(status)
        if self._stopping or runtime.stopping:
            return code
        if runtime.ready_at is None:
            if runtime.listening or code > 128:
                self.log(
                    40,
                    f"runtime process {runtime.pid} died before it was ready ({cause}); "
                    "not restarting",
                )
            return code
        if self._listen_fd is None:
            return code
        uptime = time.monotonic() - runtime.ready_at
        if uptime >= STABLE_SECONDS:
            self._quick_crashes = 0
        delay = restart_delay(self._quick_crashes)
        self._quick_crashes += 1
        self._causes[runtime.generation] = cause
        self.log(
            40,
            f"runtime process {runtime.pid} died ({cause}) {uptime:.1f} s after it was ready; "
            f"restarting it in {delay:g} s",
        )
        if not self._sleep(delay):
            self.log(20, "stop requested during the restart delay: not restarting")
            return 0
        return None

    def _wait(self, runtime: _Runtime) -> int:
        """Serve signals and messages until the runtime exits; its wait status."""
        while True:
            control = runtime.control
            watched = [self._wake_r] if control is None else [self._wake_r, control.fileno()]
            readable, _, _ = select.select(watched, [], [])
            if self._wake_r in readable:
                self._on_signals(runtime)
            if control is not None and runtime.control is control and control.fileno() in readable:
                self._on_message(runtime)
            status = _reap(runtime.pid)
            if status is not None:
                return status

    def _on_signals(self, runtime: _Runtime | None) -> None:
        try:
            received = os.read(self._wake_r, 64)
        except BlockingIOError:
            return
        for signum in received:
            message = _STOP_SIGNALS.get(signal.Signals(signum))
            if message is None:
                continue  # SIGCHLD: the caller reaps
            if not (signum == signal.SIGTERM and self._ignore_sigterm):
                self._stopping = True
            if runtime is None:
                continue
            try:
                if runtime.control is None:  # it closed its end: the signal itself will do
                    os.kill(runtime.pid, signum)
                else:
                    runtime.control.send(message)
            except OSError:
                pass  # it is exiting: its status follows

    def _on_message(self, runtime: _Runtime) -> None:
        assert runtime.control is not None
        try:
            data, fds, _flags, _address = socket.recv_fds(runtime.control, 1, 1)
        except BlockingIOError:
            return
        except OSError:
            data, fds = b"", []
        for fd in fds:
            if data == b"L" and self._listen_fd is None:
                os.set_inheritable(fd, False)
                self._listen_fd = fd
            else:
                os.close(fd)
        if data == b"L":
            runtime.listening = True
        elif data == b"R":
            runtime.ready_at = time.monotonic()
        elif data == b"S":
            runtime.stopping = True
        elif data == b"E":
            self._ignore_sigterm = True
        elif not data:
            runtime.control.close()
            runtime.control = None

    def _drain(self, runtime: _Runtime) -> None:
        """Read what the runtime said just before it exited (``S`` above all)."""
        assert runtime.control is not None
        runtime.control.setblocking(False)
        while runtime.control is not None:
            self._on_message(runtime)
            if runtime.control is not None and not select.select([runtime.control], [], [], 0)[0]:
                runtime.control.close()
                runtime.control = None

    def _sleep(self, seconds: float) -> bool:
        """Wait between runtimes; ``False`` if a stop was requested meanwhile."""
        deadline = time.monotonic() + seconds
        while not self._stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            if select.select([self._wake_r], [], [], remaining)[0]:
                self._on_signals(None)
                _reap(None)
        return False

    def close(self) -> None:
        """Before the supervisor exits: release the socket, remove the journals."""
        if self._listen_fd is not None:
            os.close(self._listen_fd)
        signal.set_wakeup_fd(-1)
        os.close(self._wake_r)
        os.close(self._wake_w)
        try:
            names = os.listdir(self._journal_dir)
        except OSError:
            return
        for name in names:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self._journal_dir, name))
        with contextlib.suppress(OSError):
            os.rmdir(self._journal_dir)


def _reap(runtime_pid: int | None) -> int | None:
    """Collect exited children; the runtime's wait status if it is one of them.

    Orphans are collected too: as PID 1 in a container the supervisor inherits
    the processes a model started and left behind, and must not leave zombies.
    """
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return None
        if pid == 0:
            return None
        if pid == runtime_pid:
            return status


def _ignore(signum: int, frame: object) -> None:
    """Installed so the signal reaches the wake-up pipe; the loop does the work."""


class _Log:
    """cogrt's log line formats (see ``cli.configure_logging``) without ``logging``
    (most of a MiB in the supervisor) or ``json`` (which loads ``re``): a JSON string
    needs ``"``, ``\\`` and control characters escaped, nothing more."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._threshold = _LEVELS.get(environ.get("COG_LOG_LEVEL", "info").strip().lower(), 20)
        self._console = environ.get("LOG_FORMAT", "").strip().lower() == "console"

    def __call__(self, level: int, message: str) -> None:
        stream = sys.__stderr__
        if level < self._threshold or stream is None:
            return
        now = time.time()
        seconds = int(now)
        name = _LEVEL_NAMES[level]
        if self._console:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))
            millis = int((now - seconds) * 1000)
            line = f"{stamp},{millis:03d} {name:<7} cogrt.supervisor: {message}"
        else:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
            micros = int((now - seconds) * 1_000_000)
            line = (
                f'{{"time":"{stamp}.{micros:06d}+00:00","level":"{name.lower()}",'
                f'"logger":"cogrt.supervisor","message":"{message.translate(_JSON_ESCAPES)}"}}'
            )
        with contextlib.suppress(OSError, ValueError):
            stream.write(line + "\n")
            stream.flush()
