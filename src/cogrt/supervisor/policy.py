"""How the supervisor judges a runtime's end, and how it says so.

A crash is named in words for the log and the failed webhooks (``exit 1``,
``killed by SIGSEGV``) and as a shell-style exit status for the orchestrator
(``128 + signal``). A new runtime starts at once after a first crash, then
after a delay that doubles while crashes come less than ``STABLE_SECONDS``
apart (capped at ``MAX_DELAY``).

This module runs in the exec'd supervisor (see :mod:`cogrt.supervisor.loop`):
``posix``, ``_signal``, ``time`` and ``sys`` only, no ``logging`` nor ``json``.
"""

from __future__ import annotations

import sys
import time

if sys.platform != "win32":  # Windows has no fork and never supervises
    import posix  # what ``os`` wraps: ``os`` itself is 0.17 MiB of the exec'd supervisor

TYPE_CHECKING = False  # not typing's: see cogrt.supervisor.loop
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

_signal: Any = __import__("_signal")  # loaded by every interpreter; ``signal`` wraps it in enums

__all__ = ["MAX_DELAY", "STABLE_SECONDS", "Log", "describe_exit", "reap", "restart_delay"]

STABLE_SECONDS = 60.0
"""A runtime that was ready this long before it died counts as a first crash again."""
MAX_DELAY = 30.0
"""The longest wait before restarting a runtime that keeps crashing, in seconds."""
_FIRST_DELAY = 0.5
_SIGNAL_NAMES: dict[int, str] = {}
for _name in sorted(vars(_signal)):  # SIGABRT before SIGIOT, as signal.Signals names them
    if _name.startswith("SIG") and not _name.startswith("SIG_"):
        _SIGNAL_NAMES.setdefault(getattr(_signal, _name), _name)
_LEVELS = {"debug": 10, "info": 20, "warn": 30, "warning": 30, "error": 40}
_LEVEL_NAMES = {20: "INFO", 30: "WARNING", 40: "ERROR"}
_JSON_ESCAPES = {ord('"'): '\\"', ord("\\"): "\\\\"} | {c: f"\\u{c:04x}" for c in range(32)}


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


def reap(runtime_pid: int | None) -> int | None:
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


class Log:
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
