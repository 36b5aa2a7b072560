"""What webhooks and the crash journal read from a prediction, as a protocol.

Transfer sits below the runner, so it cannot name ``runner.prediction.Prediction``;
it states what it reads instead, and mypy checks at the runner's call sites
that a ``Prediction`` provides it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Listener", "PredictionRecord"]

Listener = Callable[[str, Any], None]
"""Called with each ``(event, data)`` a prediction emits (``start``, ``output``, ``log``, ...)."""


class PredictionRecord(Protocol):
    """A prediction as its webhooks and journal entry see it: read-only, plus its events."""

    @property
    def id(self) -> str: ...

    @property
    def input(self) -> Any:
        """The recorded input, as the prediction's JSON shows it."""

    @property
    def created_at(self) -> str: ...

    @property
    def started_at(self) -> str | None: ...

    @property
    def done(self) -> bool:
        """Terminal already: its ``completed`` event was emitted."""

    def to_json(self) -> bytes:
        """The prediction's current JSON, the body of an intermediate webhook."""

    def add_listener(self, listener: Listener) -> None: ...
