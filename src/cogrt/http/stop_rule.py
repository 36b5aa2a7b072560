"""Cog's stop signals: the first SIGINT or SIGTERM stops gracefully, a second exits at once.

SIGTERM is no stop request with ``await_explicit_shutdown`` (``cog serve``
relies on it: only ``POST /shutdown`` or SIGINT stop then). The exit on a
second signal is the only way out of a sync predictor stuck in C code.

One rule, two sources of signals: ``server._signals`` applies it to the
signals the server's process receives, and a supervised runtime
(:mod:`cogrt.supervisor.link`) to the ones its supervisor passes on as
messages; each logs under its own logger.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable

__all__ = ["StopRule"]


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
        self._stop()
