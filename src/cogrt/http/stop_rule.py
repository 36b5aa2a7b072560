"""Cog's stop signals: the first SIGINT or SIGTERM stops gracefully, a second exits at once.

SIGTERM is no stop request with ``await_explicit_shutdown`` (``cog serve``
relies on it: only ``POST /shutdown`` or SIGINT stop then). The exit on a
second signal is the only way out of a sync predictor stuck in C code.

One rule, two sources of signals: ``server._signals`` applies it to the
signals the server's process receives, and a supervised runtime
(:mod:`cogrt.supervisor.link`) to the ones its supervisor passes on as
messages; each logs under its own logger. Which signal stopped the process is
kept (``first_stop_signal``), process-wide as signals are: a server stopped by
one before its model was ready ends by that signal (``cli.serve``), so what
started it sees a SIGTERM death, as Cog's tests expect.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable

__all__ = ["StopRule", "die_by", "first_stop_signal"]

_stop_signals: list[signal.Signals] = []


def first_stop_signal() -> signal.Signals | None:
    """The signal that began this process's graceful stop, if one did."""
    return _stop_signals[0] if _stop_signals else None


def die_by(signum: int) -> None:
    """End the process by ``signum``'s default action (log handlers flushed first)."""
    logging.shutdown()
    signal.signal(signum, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
    os.kill(os.getpid(), signum)


class StopRule:
    """Called with each stop signal; ``stop`` begins the graceful stop that sets ``stopping``."""

    def __init__(
        self,
        stopping: asyncio.Event,
        stop: Callable[[], None],
        log: logging.Logger,
        *,
        ignore_sigterm: bool,
    ) -> None:
        self._stopping = stopping
        self._stop = stop
        self._log = log
        self._ignore_sigterm = ignore_sigterm

    def __call__(self, signum: signal.Signals) -> None:
        if signum == signal.SIGTERM and self._ignore_sigterm:
            self._log.info("ignoring SIGTERM: waiting for POST /shutdown or SIGINT")
            return
        if self._stopping.is_set():
            self._log.warning("second %s during shutdown: exiting now", signum.name)
            logging.shutdown()
            os._exit(1)
        self._log.info("%s received: shutting down gracefully", signum.name)
        _stop_signals.append(signum)
        self._stop()
