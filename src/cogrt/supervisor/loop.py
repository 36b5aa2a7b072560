"""The supervisor's loop: watch a runtime, pass stops on, start the next one after a crash.

This module is what runs as the supervisor once :mod:`cogrt.supervisor.entry`
has replaced its image with ``python -S -I``: ``resume`` adopts the first
runtime and ``Supervisor.run`` watches it and each one after. The supervisor
must stay small: this module and :mod:`cogrt.supervisor.policy` import
``select`` and ``_socket`` and what a bare interpreter loads anyway
(``posix``, ``_signal``, ``time``), not ``os``, ``signal``, ``socket`` nor
``typing`` (over a MiB between them), nor anything else of cogrt: the exec'd
image loads them without running ``cogrt/__init__.py``.
``tests/supervisor/test_supervisor.py`` pins the list.

Later runtimes are spawned as ``python -m cogrt`` with the user's arguments,
environment and working directory, and inherit the listening socket and their
control socket as descriptors named in ``COGRT_SUPERVISED``, with their
generation, the crash journal directory (:mod:`cogrt.transfer.journal`) and
why each earlier runtime died: after a crash the next runtime sends the dead
one's in-flight predictions a terminal ``failed`` webhook.

Control messages, one byte each, on a socket pair per runtime. Runtime to
supervisor: ``L`` listening (the first runtime's carries the socket), ``R``
ready, ``S`` stopping on request, ``E`` ignores SIGTERM
(``--await-explicit-shutdown``). Supervisor to runtime: ``T`` SIGTERM and
``I`` SIGINT received.
"""

from __future__ import annotations

import _socket
import select
import sys
import time

from cogrt.supervisor.policy import STABLE_SECONDS, Log, describe_exit, reap, restart_delay

if sys.platform != "win32":  # Windows has no fork and never supervises
    import posix  # what ``os`` wraps: ``os`` itself is 0.17 MiB of the exec'd supervisor

TYPE_CHECKING = False  # not typing's: see the module docstring
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

_signal: Any = __import__("_signal")  # loaded by every interpreter; ``signal`` wraps it in enums

__all__ = ["ENVIRONMENT", "HANDLED", "Supervisor", "resume"]

ENVIRONMENT = "COGRT_SUPERVISED"
"""Names a spawned runtime's inherited descriptors and state (see ``Supervisor._hand_over``)."""
HANDLED: tuple[int, ...] = tuple(
    getattr(_signal, name) for name in ("SIGTERM", "SIGINT", "SIGCHLD") if hasattr(_signal, name)
)  # Windows has no SIGCHLD, and no fork: it never supervises
"""The signals the supervisor handles, through its wake-up pipe."""
_STOP_SIGNALS: dict[int, bytes] = {_signal.SIGTERM: b"T", _signal.SIGINT: b"I"}


def resume(state: Sequence[str]) -> int:
    """The exec'd supervisor's entry: adopt the first runtime, then supervise.

    ``state`` is ``Supervisor.exec_state``'s, read back. The stop signals
    arrive blocked; they are unblocked once the handlers and the wake-up pipe
    are in place, so one sent during the exec is served now.
    """
    control_fd, runtime_pid, journal_dir, *args = state
    wanted = (b"COG_LOG_LEVEL", b"LOG_FORMAT")  # for Log
    environ = {
        k.decode(): v.decode(errors="replace") for k, v in posix.environ.items() if k in wanted
    }
    supervisor = Supervisor(args, environ, journal_dir)
    fd = int(control_fd)
    posix.set_inheritable(fd, False)
    supervisor.adopt(int(runtime_pid), _socket.socket(fileno=fd))
    _signal.pthread_sigmask(_signal.SIG_UNBLOCK, HANDLED)
    return supervisor.run()


class _Runtime:
    """The supervisor's view of one runtime process."""

    def __init__(self, pid: int, generation: int, control: _socket.socket) -> None:
        self.pid = pid
        self.generation = generation
        self.control: _socket.socket | None = control
        self.listening = False
        self.ready_at: float | None = None
        self.stopping = False


class Supervisor:
    """The supervisor's state across runtimes; single-threaded, no event loop."""

    def __init__(
        self, args: list[str], environ: Mapping[str, str], journal_dir: str | None = None
    ) -> None:
        self.log = Log(environ)
        self._args = args
        self._listen_fd: int | None = None
        if journal_dir is None:
            tmp = environ.get("TMPDIR") or "/tmp"
            name = f"cogrt-journal-{posix.getpid()}-{posix.urandom(6).hex()}"
            journal_dir = f"{tmp.rstrip('/')}/{name}"
        self.journal_dir = journal_dir
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
        for signum in HANDLED:
            _signal.signal(signum, _ignore)
        _signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)

    def leave(self) -> None:
        """In a process forked from this one, which becomes a runtime: undo ``__init__``'s
        signal handlers and wake-up pipe."""
        _signal.set_wakeup_fd(-1)
        _signal.signal(_signal.SIGTERM, _signal.SIG_DFL)
        _signal.signal(_signal.SIGCHLD, _signal.SIG_DFL)
        _signal.signal(_signal.SIGINT, _signal.default_int_handler)
        posix.close(self._wake_r)
        posix.close(self._wake_w)

    def adopt(self, pid: int, control: _socket.socket) -> None:
        """Watch the first runtime, forked by ``entry`` (in this image or the one before)."""
        self._generation = 1
        self._runtime = _Runtime(pid, 1, control)

    def exec_state(self) -> tuple[int, list[str]]:
        """The first runtime's control descriptor, to keep open across the exec, and the
        arguments after which ``resume`` reads back in the new image."""
        runtime = self._runtime
        assert runtime is not None and runtime.control is not None
        fd = runtime.control.fileno()
        return fd, [str(fd), str(runtime.pid), self.journal_dir, *self._args]

    def run(self) -> int:
        """Watch runtimes, spawning a new one after each crash; the exit status."""
        while True:
            code = self.watch()
            if code is not None:
                self.close()
                if self._stopping and code - 128 in _STOP_SIGNALS:
                    _die_by(code - 128)  # a stopped runtime died by the stop signal: so do we
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
            environ[ENVIRONMENT.encode()] = self._hand_over(theirs.fileno()).encode(
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
        """``COGRT_SUPERVISED`` for a spawned runtime; ``entry._take_over`` reads it: control
        socket, listening socket, generation, journal directory, then one line per earlier
        crash (``generation cause``)."""
        lines = [str(control_fd), str(self._listen_fd), str(self._generation), self.journal_dir]
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
            status = reap(runtime.pid)
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
                reap(None)
        return False

    def close(self) -> None:
        """Before the supervisor exits: release the socket, remove the journals."""
        if self._listen_fd is not None:
            posix.close(self._listen_fd)
        _signal.set_wakeup_fd(-1)
        posix.close(self._wake_r)
        posix.close(self._wake_w)
        try:
            names = posix.listdir(self.journal_dir)
        except OSError:
            return
        for name in names:
            _ignore_os_error(posix.unlink, f"{self.journal_dir}/{name}")
        _ignore_os_error(posix.rmdir, self.journal_dir)


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


def _die_by(signum: int) -> None:
    """End the supervisor by ``signum``'s default action, as the runtime it ran ended."""
    _signal.signal(signum, _signal.SIG_DFL)
    _signal.pthread_sigmask(_signal.SIG_UNBLOCK, {signum})
    posix.kill(posix.getpid(), signum)


def _ignore(signum: int, frame: object) -> None:
    """Installed so the signal reaches the wake-up pipe; the loop does the work."""
