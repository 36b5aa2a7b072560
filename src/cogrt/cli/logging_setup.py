"""cogrt's own log lines: JSON by default, text with ``LOG_FORMAT=console``.

They go to the *original* stderr (``sys.__stderr__``): the runtime captures
``sys.stderr`` into prediction logs, and server chatter must never show up
there.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime, timezone
from typing import Any

import msgspec

__all__ = ["configure_logging"]

_LEVELS = {
    "debug": "DEBUG",
    "info": "INFO",
    "warn": "WARNING",
    "warning": "WARNING",
    "error": "ERROR",
}


def configure_logging(*, console_by_default: bool = False) -> None:
    """cogrt's (and the HTTP server's) logs: JSON lines, or text with ``LOG_FORMAT=console``.

    ``console_by_default``: text unless ``LOG_FORMAT=json``, for the commands a
    person runs at a terminal (``predict``, ``train``), not a log collector.
    """
    level = _LEVELS.get(os.environ.get("COG_LOG_LEVEL", "info").strip().lower(), "INFO")
    handler = logging.StreamHandler(sys.__stderr__)
    chosen = os.environ.get("LOG_FORMAT", "").strip().lower()
    console = chosen == "console" or (console_by_default and chosen != "json")
    if console:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    else:
        handler.setFormatter(_JsonFormatter())
    from cogrt.http import access_log  # server-only: `schema` and `predict` never load it

    access_log.configure(
        sys.__stderr__ or sys.stderr,
        json=not console,
        enabled=logging.getLevelName(level) <= logging.INFO,
    )
    for name in ("cogrt", "uvicorn"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False


class _JsonFormatter(logging.Formatter):
    """One JSON object per line, the shape log collectors ingest without parsing rules."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry).decode()
