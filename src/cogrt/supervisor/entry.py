"""``python -m cogrt`` and the ``cogrt`` script: fork the first runtime, exec the supervisor.

When serving is supervised, ``start`` forks the first runtime before
anything heavy is imported, so that runtime pays no second interpreter
start-up, and then replaces its own image with a fresh ``python -S -I``
(same pid, same children) running :mod:`cogrt.supervisor.loop`: a forked
parent would keep a private copy of every page the runtime writes to, a new
image shares ``libpython`` and owns only what the loop loads
(benchmarks/README.md has the figures). ``_BOOTSTRAP`` imports the loop's
modules without ``cogrt/__init__.py`` (it imports the errors and the version):
it puts bare module objects for ``cogrt`` and ``cogrt.supervisor`` in
``sys.modules``, whose ``__path__`` lets the plain imports find the files.

The first runtime binds the socket exactly as an unsupervised one does
(``--port``, ``$PORT``, ``cog.yaml``'s environment) and hands the supervisor
a copy; later runtimes, spawned by the loop, take over what it hands them in
``COGRT_SUPERVISED`` (``_take_over``). Either way the runtime's
``Inheritance`` is ``inherited()``, and :mod:`cogrt.supervisor.link` is its
side of the conversation.

Off with ``--no-supervise`` or ``COGRT_SUPERVISE=0`` (under systemd or
Kubernetes, which restart the process themselves), and where there is no
``fork``.
"""

from __future__ import annotations

import _socket
import sys

from cogrt.supervisor.loop import ENVIRONMENT, HANDLED, Supervisor

TYPE_CHECKING = False  # not typing's: this runs before the fork, in the process to exec
if TYPE_CHECKING:
    import socket
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

_signal: Any = __import__("_signal")  # loaded by every interpreter; ``signal`` wraps it in enums

__all__ = ["Inheritance", "inherited", "main", "start", "supervision_wanted"]

_PRELUDE = (
    "import sys; here = sys.argv[1]; module = type(sys); "
    "cogrt = sys.modules['cogrt'] = module('cogrt'); "
    "cogrt.__path__ = [here.rpartition('/')[0]]; "
    "package = sys.modules['cogrt.supervisor'] = module('cogrt.supervisor'); "
    "package.__path__ = [here]; "
    "from cogrt.supervisor.loop import resume; "
)
"""The exec'd supervisor's imports: ``sys.argv[1]`` is this package's directory.

The loop's modules load from their cached bytecode, the runtime's own
``__pycache__`` files (a ``-c`` script would be compiled each time).
"""
_BOOTSTRAP = _PRELUDE + "sys.exit(resume(sys.argv[2:]))"
"""The exec'd supervisor's ``-c``: ``sys.argv[2:]`` is ``Supervisor.exec_state``'s."""
_OFF = frozenset({"0", "false", "no", "off"})


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
    from cogrt import startup_gc

    startup_gc.pause()  # until the model's code runs: runner.loader resumes it
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

    handed = os.environ.pop(ENVIRONMENT, None)  # not passed on to the model's processes
    if handed is not None:
        _inherited = _take_over(handed)
        return None
    if not supervision_wanted(argv, os.environ):
        return None
    # Blocked until the exec'd image has its handlers: a stop signal is neither lost with
    # the wake-up pipe at the exec nor fatal in the window when no handler is installed.
    mask = _signal.pthread_sigmask(_signal.SIG_BLOCK, HANDLED)
    supervisor = Supervisor(list(argv), os.environ)
    try:
        if _fork_runtime(supervisor, mask):
            return None  # in the new runtime: on to the CLI
    except OSError as exc:  # fork() or socketpair(): out of processes or memory
        _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)
        supervisor.log(40, f"cannot start a runtime process: {exc}")
        supervisor.close()
        return 1
    _become_minimal(supervisor)
    _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)
    return supervisor.run()


def supervision_wanted(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Serving (no command word but ``serve`` first, no ``--help``), on a platform with
    ``fork``, and neither ``--no-supervise`` nor ``COGRT_SUPERVISE=0``.

    A first argument that is a bare word is a command, as :func:`cogrt.cli.main`
    reads it (a ``REF`` has a ``.`` or ``:``), so a new command needs no change here.
    ``--no-supervise`` may be abbreviated as argparse allows: no other serve
    option starts with ``--n``."""
    import os  # loaded already: ``os`` is only kept out of the exec'd supervisor

    if not hasattr(os, "fork") or environ.get("COGRT_SUPERVISE", "").strip().lower() in _OFF:
        return False
    first = argv[0] if argv else ""
    if first != "serve" and first[:1].isalpha() and first.replace("-", "_").isidentifier():
        return False  # another command (cogrt.cli.COMMANDS): only serving is supervised
    for arg in argv:
        if arg == "--":
            break
        if arg in ("-h", "--help", "-v", "--version"):
            return False
        if arg.startswith("--n") and "--no-supervise".startswith(arg):
            return False
    return True


def _take_over(handed: str) -> Inheritance:
    """A spawned runtime's ``Inheritance``, from the ``COGRT_SUPERVISED`` its supervisor set
    (``Supervisor._hand_over``)."""
    import os
    import socket

    try:
        control, listen, generation, journal_dir, *crashes = handed.split("\n")
        control_fd, listen_fd = int(control), int(listen)
        causes = {int(g): cause for g, _, cause in (line.partition(" ") for line in crashes)}
        number = int(generation)
    except ValueError:
        raise ValueError(
            f"{ENVIRONMENT}={handed!r} is not a hand-over from cogrt's supervisor: unset it"
        ) from None
    for fd in (control_fd, listen_fd):  # not for the model's subprocesses
        os.set_inheritable(fd, False)
    return Inheritance(
        socket.socket(fileno=control_fd), listen_fd, journal_dir, number, causes, os.getppid()
    )


def _fork_runtime(supervisor: Supervisor, mask: Iterable[int]) -> bool:
    """Fork the first runtime, the stop signals blocked; ``True`` in it, ``False`` here.

    The runtime restores ``mask``; here they stay blocked for the exec.
    """
    global _inherited
    import os

    ours, theirs = _socket.socketpair()
    try:
        pid = os.fork()
    except OSError:
        ours.close()
        theirs.close()
        raise
    if pid == 0:
        import socket

        supervisor.leave()
        _signal.pthread_sigmask(_signal.SIG_SETMASK, mask)
        ours.close()
        control = socket.socket(fileno=theirs.detach())
        _inherited = Inheritance(control, None, supervisor.journal_dir, 1, {}, os.getppid())
        return True
    theirs.close()
    supervisor.adopt(pid, ours)
    return False


def _become_minimal(supervisor: Supervisor) -> None:
    """Replace this image with ``python -S -I`` running the loop's ``resume``.

    The pid and the children stay (``waitpid`` and the runtime's ``getppid``
    still hold); the runtime's control socket is kept open across the exec.
    Returns only if the exec failed, after logging it: this image supervises then.
    """
    import os  # loaded already: this runs before the exec

    fd, state = supervisor.exec_state()
    here = os.path.dirname(os.path.abspath(__file__))
    argv = [sys.executable, "-S", "-I", "-c", _BOOTSTRAP, here, *state]
    try:
        if not sys.executable:
            raise OSError("the interpreter's path (sys.executable) is unknown")
        os.set_inheritable(fd, True)
        os.execv(sys.executable, argv)
    except OSError as exc:
        os.set_inheritable(fd, False)
        supervisor.log(30, f"cannot start a minimal supervisor, supervising from here: {exc}")
