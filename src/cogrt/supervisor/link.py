"""The runtime's side of :mod:`cogrt.supervisor`: socket, readiness, stop requests, journal.

``cli`` wires a supervised runtime to its supervisor through a
``SupervisorLink`` built from ``cogrt.supervisor.inherited()``: ``listener``
gives the socket to serve (binding and handing a copy over the first time),
``watch`` runs as ``serve()``'s shutdown trigger and ``stopping`` as the
app's ``on_shutdown`` hook.

Stop signals are the supervisor's: it passes SIGTERM and SIGINT on as
messages, handled by the server's rule (:mod:`cogrt.http.stop_rule`: SIGTERM
ignored with ``--await-explicit-shutdown``, a second signal exits at once), and the
runtime ignores the copies it gets itself. A process group (Ctrl-C, ``kill
-- -PGID``, systemd's default ``KillMode``) signals both processes at once;
counting both would turn one stop into "second signal: exit now". So a signal
sent to the runtime process alone does nothing: signal the supervisor, the
process that was started.

The runtime must not outlive its supervisor (a ``kill -9`` of the process
the user started must not leave a server holding the port): it exits when
the control socket reports end-of-file, which the loop sees whenever it runs,
and on Linux it also asks the kernel for SIGKILL when the supervisor dies
(``PR_SET_PDEATHSIG``), which covers a loop blocked by user code. That
needs ``ctypes`` (about 4 ms to import): it is imported in a thread once
setup is over, not on the way to READY nor on the loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from cogrt.http.stop_rule import StopRule
from cogrt.supervisor.entry import Inheritance
from cogrt.transfer.journal import Journal

if TYPE_CHECKING:
    from cogrt.runner.runtime import Runtime

__all__ = ["SupervisorLink"]

log = logging.getLogger("cogrt.supervisor")

_PR_SET_PDEATHSIG = 1
_MESSAGES = {ord("T"): signal.SIGTERM, ord("I"): signal.SIGINT}


class SupervisorLink:
    """A supervised runtime's end of the control socket, and what it inherited."""

    def __init__(self, inheritance: Inheritance) -> None:
        self._control = inheritance.control
        self._inheritance = inheritance
        self._ignore_sigterm = False
        self._on_stop_signal: StopRule | None = None

    def listener(self, bind: Callable[[], socket.socket]) -> socket.socket:
        """The supervisor's listening socket; the first runtime binds it with ``bind``."""
        fd = self._inheritance.listen_fd
        if fd is not None:
            self._send(b"L")
            return socket.socket(fileno=fd)
        sock = bind()
        socket.send_fds(self._control, [b"L"], [sock.fileno()])
        return sock

    def ignore_sigterm(self) -> None:
        """``--await-explicit-shutdown``: SIGTERM is no stop request, for us nor the supervisor."""
        self._ignore_sigterm = True
        self._send(b"E")

    def journal(self) -> Journal:
        inheritance = self._inheritance
        return Journal(inheritance.journal_dir, inheritance.generation, inheritance.causes)

    def stopping(self) -> None:
        """The app's ``on_shutdown``: a graceful stop began, so exiting is no crash."""
        self._send(b"S")

    async def watch(self, runtime: Runtime) -> None:
        """``serve()``'s shutdown trigger: returns when the supervisor passes a stop on.

        Meanwhile it reports when setup has succeeded (from then on a crash is
        restarted) and exits the process if the supervisor is gone.
        """
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        self._on_stop_signal = StopRule(stop, stop.set, log, ignore_sigterm=self._ignore_sigterm)
        self._control.setblocking(False)
        loop.add_reader(self._control.fileno(), self._on_control)
        # Replaces the handlers serve_app installed just before this task's first
        # step; serve_app removes them when it ends.
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self._on_own_signal, signum)
        ready = loop.create_task(self._report_ready(runtime))
        try:
            await stop.wait()
        finally:
            ready.cancel()

    async def _report_ready(self, runtime: Runtime) -> None:
        if await runtime.wait_setup() not in ("READY", "BUSY"):
            return
        self._send(b"R")
        if not sys.platform.startswith("linux"):
            return
        try:
            prctl = await asyncio.to_thread(_load_prctl)
            # On this (the main) thread: the kernel keeps the setting per thread, and
            # an executor thread may end before the supervisor does.
            if prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
                raise OSError(_errno(), "prctl(PR_SET_PDEATHSIG)")
        except (OSError, AttributeError) as exc:  # no libc prctl: the socket still watches
            log.warning("cannot ask to die with the supervisor: %s", exc)
            return
        if os.getppid() != self._inheritance.supervisor_pid:  # it died before the prctl
            self._supervisor_gone()

    def _on_control(self) -> None:
        try:
            data = self._control.recv(64)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._supervisor_gone()
        assert self._on_stop_signal is not None
        for byte in data:
            signum = _MESSAGES.get(byte)
            if signum is not None:
                self._on_stop_signal(signum)

    def _on_own_signal(self, signum: signal.Signals) -> None:
        log.debug("%s to the runtime process: left to the supervisor", signum.name)

    def _supervisor_gone(self) -> None:
        log.error(
            "the supervisor (pid %d) is gone: exiting at once", self._inheritance.supervisor_pid
        )
        logging.shutdown()
        os._exit(1)

    def _send(self, message: bytes) -> None:
        try:
            self._control.send(message)
        except OSError:  # the supervisor is gone; the socket's end-of-file says so too
            pass


def _load_prctl() -> Callable[..., int]:
    import ctypes

    prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    return prctl


def _errno() -> int:
    import ctypes

    return ctypes.get_errno()
