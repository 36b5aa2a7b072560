"""The wire format of the queue: a request message, and one response event.

A request is one stream entry with the field ``request`` (the JSON body the
HTTP API takes: ``id``, ``input``, ``webhook``, ``webhook_events_filter``)
and optionally ``kind`` (``prediction``, the default, or ``training``). A
response event is one entry of the prediction's response stream with the
fields ``event`` (``start``, ``output``, ``logs``, ``completed``) and
``prediction`` (the prediction JSON at that moment). ``docs/queue.md`` is
the same description for other languages.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = [
    "EVENTS",
    "Kind",
    "QueueEvent",
    "decode_event",
    "encode_request",
    "text",
]

Kind = Literal["prediction", "training"]
EVENTS: tuple[str, ...] = ("start", "output", "logs", "completed")
"""Event names, as the webhook filter spells them (spec §13)."""


class QueueEvent(msgspec.Struct, frozen=True):
    """One entry of a prediction's response stream."""

    event: str
    prediction: dict[str, Any]

    @property
    def terminal(self) -> bool:
        return self.event == "completed"


def text(value: bytes | str) -> str:
    """A Redis value as text, whether the client decodes responses or not."""
    return value.decode() if isinstance(value, bytes) else value


def encode_request(
    prediction_id: str,
    input: dict[str, Any],
    *,
    webhook: str | None,
    webhook_events_filter: list[str] | None,
    kind: Kind,
) -> dict[str, bytes | str]:
    """The stream entry fields of one request."""
    body: dict[str, Any] = {"id": prediction_id, "input": input}
    if webhook is not None:
        body["webhook"] = webhook
    if webhook_events_filter is not None:
        body["webhook_events_filter"] = webhook_events_filter
    return {"request": msgspec.json.encode(body), "kind": kind}


def decode_event(fields: dict[Any, Any]) -> QueueEvent:
    """A response stream entry (its field map, bytes or text keys) as a ``QueueEvent``."""
    normalized = {text(k): v for k, v in fields.items()}
    prediction = msgspec.json.decode(normalized["prediction"])
    return QueueEvent(text(normalized["event"]), prediction)
