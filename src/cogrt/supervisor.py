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

It forks the first runtime before anything heavy is imported, so that runtime
pays no second interpreter start-up, and then replaces its own image with a
fresh ``python -S -I`` that imports this file alone (same pid, same children): a forked
parent would keep a private copy of every page the runtime writes to, a new
image shares ``libpython`` and owns only what this file loads
(benchmarks/README.md has the figures). The first runtime binds the socket
exactly as an unsupervised one does (``--port``, ``$PORT``, ``cog.yaml``'s
environment) and hands the supervisor a copy; later runtimes are spawned as
``python -m cogrt`` with the user's arguments, environment and working
directory, and inherit the socket and their control socket as descriptors
named in ``COGRT_SUPERVISED``. Each
runtime keeps a crash journal (:mod:`cogrt.transfer.journal`) in a directory the
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
``fork``. This file runs as the supervisor, which must stay small: it imports
``select`` and ``_socket`` and what a bare interpreter loads anyway
(``posix``, ``_signal``), not ``os``, ``signal`` nor ``socket`` (over a MiB
between them); ``tests/http/test_supervisor.py`` pins the list.
"""

from __future__ import annotations

import _socket
import select
import sys
import time

if sys.platform != "win32":  # Windows has no fork and never supervises
    import posix  # what ``os`` wraps: ``os`` itself is 0.17 MiB of the exec'd supervisor

TYPE_CHECKING = False  # not typing's: see the module docstring
if TYPE_CHECKING:
    import socket
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Any

_signal: Any = __import__("_signal")  # loaded by every interpreter; ``signal`` wraps it in enums

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
_STOP_SIGNALS: dict[int, bytes] = {_signal.SIGTERM: b"T", _signal.SIGINT: b"I"}
_HANDLED: tuple[int, ...] = tuple(
    getattr(_signal, name) for name in ("SIGTERM", "SIGINT", "SIGCHLD") if hasattr(_signal, name)
)  # Windows has no SIGCHLD, and no fork: it never supervises
_SIGNAL_NAMES: dict[int, str] = {}
for _name in sorted(vars(_signal)):  # SIGABRT before SIGIOT, as signal.Signals names them
    if _name.startswith("SIG") and not _name.startswith("SIG_"):
        _SIGNAL_NAMES.setdefault(getattr(_signal, _name), _name)
_BOOTSTRAP = (
    "import sys; sys.path.append(sys.argv[1]); from supervisor import _resume; "
    "sys.exit(_resume(sys.argv[2:]))"
)
"""The exec'd supervisor's ``-c``: ``sys.argv[1]`` is this file's directory."""
_ENVIRONMENT = "COGRT_SUPERVISED"
"""Names a spawned runtime's inherited descriptors and state (see ``_hand_over``)."""
_OFF = frozenset({"0", "false", "no", "off"})
_LEVELS = {"debug": 10, "info": 20, "warn": 30, "warning": 30, "error": 40}
_LEVEL_NAMES = {20: "INFO", 30: "WARNING", 40: "ERROR"}
_JSON_ESCAPES = {ord('"'): '\\"', ord("\\"): "\\\\"} | {c: f"\\u{c:04x}" for c in range(32)}


class Inheritance:
    """What a runtime process gets from its supervisor: forked, or spawned (``_take_over``)."""

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

    That process is a runtime (forked, or spawned with ``COGRT_SUPERVISED``
    set), or this one when supervision is off. Otherwise this process becomes
    the minimal supervisor (``os.execv``) and the call does not return; only if
    that exec fails does it supervise from here and return the exit status,
    after the last runtime.
    """
    global _inherited
    import os  # loaded already: this runs before the exec, or in a runtime

    handed = os.environ.pop(_ENVIRONMENT, None)  # not passed on to the model's processes
    if handed is not None:
        _inherited = _take_over(handed)
        return None
    if not supervision_wanted(argv, os.environ):
        return None
    # Blocked until the exec'd image has its handlers: a stop signal is neither lost with
    # the wake-up pipe at the exec nor fatal in the window when no handler is installed.
    mask = _signal.pthread_sigmask(_signal.SIG_BLOCK, _HANDLED)
    supervisor = _Supervisor(list(argv), os.environ)
    try:
        if supervisor.fork_runtime(mask):
            return None  # in the new runtime: on to the CLI
    except OSError as exc:  # fork() or socketpair(): out of processes or memory
        _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)
        supervisor.log(40, f"cannot start a runtime process: {exc}")
        supervisor.close()
        return 1
    supervisor.become_minimal()
    _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)
    return supervisor.run()


def _resume(state: Sequence[str]) -> int:
    """The exec'd supervisor's entry: adopt the first runtime, then supervise.

    ``state`` is what ``become_minimal`` put after this file's directory. The stop
    signals arrive blocked; they are unblocked once the handlers and the
    wake-up pipe are in place, so one sent during the exec is served now.
    """
    control_fd, runtime_pid, journal_dir, *args = state
    wanted = (b"COG_LOG_LEVEL", b"LOG_FORMAT")  # for _Log
    environ = {
        k.decode(): v.decode(errors="replace") for k, v in posix.environ.items() if k in wanted
    }
    supervisor = _Supervisor(args, environ, journal_dir)
    supervisor.adopt(int(runtime_pid), int(control_fd))
    _signal.pthread_sigmask(_signal.SIG_UNBLOCK, _HANDLED)
    return supervisor.run()


def _take_over(handed: str) -> Inheritance:
    """A spawned runtime's ``Inheritance``, from the ``COGRT_SUPERVISED`` its supervisor set:
    control socket, listening socket, generation, journal directory, then one line per
    earlier crash (``generation cause``)."""
    import os
    import socket

    try:
        control, listen, generation, journal_dir, *crashes = handed.split("\n")
        control_fd, listen_fd = int(control), int(listen)
        causes = {int(g): cause for g, _, cause in (line.partition(" ") for line in crashes)}
        number = int(generation)
    except ValueError:
        raise ValueError(
            f"{_ENVIRONMENT}={handed!r} is not a hand-over from cogrt's supervisor: unset it"
        ) from None
    for fd in (control_fd, listen_fd):  # not for the model's subprocesses
        os.set_inheritable(fd, False)
    return Inheritance(
        socket.socket(fileno=control_fd), listen_fd, journal_dir, number, causes, os.getppid()
    )


def supervision_wanted(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Serving, on a platform with ``fork``, and neither ``--no-supervise`` nor
    ``COGRT_SUPERVISE=0``. ``--no-supervise`` may be abbreviated as argparse allows:
    no other serve option starts with ``--n``."""
    import os  # loaded already: ``os`` is only kept out of the exec'd supervisor

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
    code = posix.waitstatus_to_exitcode(status)
    if code >= 0:
        return f"exit {code}", code
    name = _SIGNAL_NAMES.get(-code, f"signal {-code}")
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

    def __init__(self, pid: int, generation: int, control: _socket.socket) -> None:
        self.pid = pid
        self.generation = generation
        self.control: _socket.socket | None = control
        self.listening = False
        self.ready_at: float | None = None
        self.stopping = False


class _Supervisor:
    """The supervisor's state across runtimes; single-threaded, no event loop."""

    def __init__(
        self, args: list[str], environ: Mapping[str, str], journal_dir: str | None = None
    ) -> None:
        self.log = _Log(environ)
        self._args = args
        self._listen_fd: int | None = None
        if journal_dir is None:
            tmp = environ.get("TMPDIR") or "/tmp"
            name = f"cogrt-journal-{posix.getpid()}-{posix.urandom(6).hex()}"
            journal_dir = f"{tmp.rstrip('/')}/{name}"
        self._journal_dir = journal_dir
        self._generation = 0
        self._causes: dict[int, str] = {}
        self._ignore_sigterm = False
        self._stopping = False
        self._quick_crashes = 0
        self._runtime: _Runtime | None = None
        # Signals wake the select() loop through this pipe (the byte is the signal number).
        self._wake_r, self._wake_w = posix.pipe()
        posix.set_blocking(self._wake_r, False)
        posix.set_blocking(self._wake_w, False)
        for signum in _HANDLED:
            _signal.signal(signum, _ignore)
        _signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)

    def fork_runtime(self, mask: Iterable[int]) -> bool:
        """Fork the first runtime, the stop signals blocked; ``True`` in it, ``False`` here.

        The runtime restores ``mask``; here they stay blocked for the exec.
        """
        self._generation += 1
        ours, theirs = _socket.socketpair()
        try:
            pid = posix.fork()
        except OSError:
            ours.close()
            theirs.close()
            raise
        if pid == 0:
            self._become_runtime(ours, theirs, mask)
            return True
        theirs.close()
        self._runtime = _Runtime(pid, self._generation, ours)
        return False

    def _become_runtime(
        self, ours: _socket.socket, theirs: _socket.socket, mask: Iterable[int]
    ) -> None:
        global _inherited
        import socket

        _signal.set_wakeup_fd(-1)
        _signal.signal(_signal.SIGTERM, _signal.SIG_DFL)
        _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)
        _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)
        posix.close(self._wake_r)
        posix.close(self._wake_w)
        ours.close()
        _inherited = Inheritance(
            socket.socket(fileno=theirs.detach()),
            self._listen_fd,
            self._journal_dir,
            self._generation,
            dict(self._causes),
            posix.getppid(),
        )

    def become_minimal(self) -> None:
        """Replace this image with ``python -S -I`` running this file's ``_resume``.

        ``_BOOTSTRAP`` imports the file as a top-level module from its directory
        (appended to ``sys.path``, after the standard library): a module, unlike a
        script, loads from its cached bytecode, the runtime's own ``__pycache__`` file.

        The pid and the children stay (``waitpid`` and the runtime's ``getppid``
        still hold); the runtime's control socket is kept open across the exec.
        Returns only if the exec failed, after logging it: this image supervises then.
        """
        runtime = self._runtime
        assert runtime is not None and runtime.control is not None
        fd = runtime.control.fileno()
        import os  # loaded already: this runs before the exec

        here = os.path.dirname(os.path.abspath(__file__))
        argv = [sys.executable, "-S", "-I", "-c", _BOOTSTRAP, here]
        argv += [str(fd), str(runtime.pid), self._journal_dir]
        try:
            if not sys.executable:
                raise OSError("the interpreter's path (sys.executable) is unknown")
            posix.set_inheritable(fd, True)
            posix.execv(sys.executable, [*argv, *self._args])
        except OSError as exc:
            posix.set_inheritable(fd, False)
            self.log(30, f"cannot start a minimal supervisor, supervising from here: {exc}")

    def adopt(self, pid: int, control_fd: int) -> None:
        """In the exec'd image: watch the first runtime, forked by the image before."""
        posix.set_inheritable(control_fd, False)
        self._generation = 1
        self._runtime = _Runtime(pid, 1, _socket.socket(fileno=control_fd))

    def run(self) -> int:
        """Watch runtimes, spawning a new one after each crash; the exit status."""
        while True:
            code = self.watch()
            if code is not None:
                self.close()
                return code
            try:
                self.spawn_runtime()
            except OSError as exc:  # out of processes or memory, or no interpreter any more
                self.log(40, f"cannot start a runtime process: {exc}")
                self.close()
                return 1

    def spawn_runtime(self) -> None:
        """Start a new runtime as ``python -m cogrt`` with the user's arguments, environment
        and working directory (both unchanged in this process), and ``COGRT_SUPERVISED``
        naming what it inherits: its control socket and the listening socket."""
        assert self._listen_fd is not None
        self._generation += 1
        ours, theirs = _socket.socketpair()
        try:
            posix.set_inheritable(theirs.fileno(), True)
            environ = dict(posix.environ)  # as the user started cogrt: bytes, as the kernel has it
            environ[_ENVIRONMENT.encode()] = self._hand_over(theirs.fileno()).encode(
                "utf-8", "surrogateescape"
            )
            argv = [sys.executable, "-m", "cogrt", *self._args]
            pid = posix.posix_spawn(sys.executable, argv, environ)
        except OSError:
            ours.close()
            raise
        finally:
            theirs.close()
        self._runtime = _Runtime(pid, self._generation, ours)
        self.log(20, f"runtime process {pid} started (restart {self._generation - 1})")

    def _hand_over(self, control_fd: int) -> str:
        """``COGRT_SUPERVISED`` for a spawned runtime; ``_take_over`` reads it."""
        lines = [str(control_fd), str(self._listen_fd), str(self._generation), self._journal_dir]
        lines += [f"{generation} {cause}" for generation, cause in self._causes.items()]
        return "\n".join(lines)

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
            received = posix.read(self._wake_r, 64)
        except BlockingIOError:
            return
        for signum in received:
            message = _STOP_SIGNALS.get(signum)
            if message is None:
                continue  # SIGCHLD: the caller reaps
            if not (signum == _signal.SIGTERM and self._ignore_sigterm):
                self._stopping = True
            if runtime is None:
                continue
            try:
                if runtime.control is None:  # it closed its end: the signal itself will do
                    posix.kill(runtime.pid, signum)
                else:
                    runtime.control.send(message)
            except OSError:
                # It is exiting: its wait status follows.
                pass

    def _on_message(self, runtime: _Runtime) -> None:
        assert runtime.control is not None
        try:
            data, fds = _receive(runtime.control)
        except BlockingIOError:
            return
        except OSError:
            data, fds = b"", []
        for fd in fds:
            if data == b"L" and self._listen_fd is None:
                posix.set_inheritable(fd, True)  # for the runtimes spawned after a crash
                self._listen_fd = fd
            else:
                posix.close(fd)
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
            posix.close(self._listen_fd)
        _signal.set_wakeup_fd(-1)
        posix.close(self._wake_r)
        posix.close(self._wake_w)
        try:
            names = posix.listdir(self._journal_dir)
        except OSError:
            return
        for name in names:
            _ignore_os_error(posix.unlink, f"{self._journal_dir}/{name}")
        _ignore_os_error(posix.rmdir, self._journal_dir)


def _ignore_os_error(remove: Callable[[str], None], path: str) -> None:
    """Journals another process removed already are fine (no ``contextlib`` here)."""
    try:
        remove(path)
    except OSError:
        pass


def _receive(control: _socket.socket) -> tuple[bytes, list[int]]:
    """One message byte and the descriptors sent with it (``socket.recv_fds`` without
    ``socket``, whose enums this process does without)."""
    item = 4  # a C int per descriptor
    data, ancillary, _flags, _address = control.recvmsg(1, _socket.CMSG_LEN(item))
    fds: list[int] = []
    for level, kind, payload in ancillary:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            usable = len(payload) - len(payload) % item
            fds += [
                int.from_bytes(payload[i : i + item], sys.byteorder) for i in range(0, usable, item)
            ]
    return data, fds


def _reap(runtime_pid: int | None) -> int | None:
    """Collect exited children; the runtime's wait status if it is one of them.

    Orphans are collected too: as PID 1 in a container the supervisor inherits
    the processes a model started and left behind, and must not leave zombies.
    """
    while True:
        try:
            pid, status = posix.waitpid(-1, posix.WNOHANG)
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
        try:
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass
