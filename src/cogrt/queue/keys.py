"""Where everything about one queued prediction lives in Redis: the one naming scheme.

Workers and clients both import these names, so they can never disagree; any
other language can rebuild them from ``docs/queue.md``. Keys derive from the
prediction id alone (not the stream), so ``result(redis, id)`` needs no more.
"""

from __future__ import annotations

__all__ = [
    "CANCEL_CHANNEL",
    "PREFIX",
    "cancel_key",
    "dead_stream",
    "events_key",
    "lease_key",
    "result_key",
]

PREFIX = "cogrt:prediction:"
CANCEL_CHANNEL = "cogrt:cancel"
"""Pub/sub channel every worker listens on; a message is the id of a prediction to cancel."""


def result_key(prediction_id: str) -> str:
    """A string key: the terminal prediction JSON. Its presence means "done, never run again"."""
    return f"{PREFIX}{prediction_id}:result"


def events_key(prediction_id: str) -> str:
    """The per-prediction response stream: one entry per event (``event``, ``prediction``)."""
    return f"{PREFIX}{prediction_id}:events"


def cancel_key(prediction_id: str) -> str:
    """Set by a cancel request: a prediction still waiting in the stream is canceled on pickup."""
    return f"{PREFIX}{prediction_id}:cancel"


def lease_key(prediction_id: str) -> str:
    """Which consumer took the prediction last, and when: the "last error" of a worker that died."""
    return f"{PREFIX}{prediction_id}:lease"


def dead_stream(stream: str) -> str:
    """The dead-letter stream of ``stream``: messages delivered more than ``--max-deliveries``."""
    return f"{stream}:dead"
