"""The prediction request envelope around ``input`` (spec §8.1).

The envelope is the same for every predictor; only the type of ``input``
differs, so :func:`envelope_type` builds the msgspec Struct around a given
input type once per predictor.

A ``webhook`` must be an ``http(s)://`` URL (case-insensitive scheme, a host
after it) or empty (no webhooks): anything else is a 422 up front rather than
a delivery that can only fail later. msgspec checks it with a regex on the
valid path; :func:`envelope_errors` words the refusal.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec

from cogrt.errors import MalformedRequestError
from cogrt.schema.jsonrules import render

__all__ = [
    "ALL_EVENTS",
    "EVENTS",
    "PredictionRequest",
    "envelope_errors",
    "envelope_type",
    "malformed",
]

Event = Literal["start", "output", "logs", "completed"]
EVENTS: tuple[str, ...] = ("start", "output", "logs", "completed")
ALL_EVENTS: frozenset[str] = frozenset(EVENTS)
"""The webhook events sent when a request names none."""
_STRING_FIELDS = ("id", "webhook", "created_at", "output_file_prefix")
WEBHOOK_PATTERN = r"^(?:$|(?i:https?://[^/?#\s]))"
"""An http(s) URL with a host, or ``""`` (no webhooks, as before)."""
_WEBHOOK = re.compile(WEBHOOK_PATTERN)
_WebhookURL = Annotated[str, msgspec.Meta(pattern=WEBHOOK_PATTERN)]


class PredictionRequest(msgspec.Struct, frozen=True):
    """A decoded, validated request: ``input`` is what the prediction records.

    ``output_file_prefix`` (classic, deprecated) is type-checked but dropped.
    """

    id: str | None
    input: dict[str, Any]
    context: dict[str, str]
    webhook: str | None
    webhook_events_filter: frozenset[str]
    created_at: str | None


def envelope_type(input_type: Any) -> type[msgspec.Struct]:
    """The Struct a body decodes into; unknown top-level keys are ignored."""
    return msgspec.defstruct(
        "PredictionRequestEnvelope",
        [
            ("id", str | None, None),
            ("input", input_type | None, None),
            ("context", dict[str, str] | None, None),
            ("webhook", _WebhookURL | None, None),
            ("webhook_events_filter", list[Event] | None, None),
            ("created_at", str | None, None),
            ("output_file_prefix", str | None, None),
        ],
        kw_only=True,
    )


def envelope_errors(data: dict[str, Any]) -> list[dict[str, Any]]:
    """What is wrong with the fields around ``input``, as §8.2 detail entries.

    ``loc`` points at the field, e.g. ``["body", "webhook_events_filter", 0]``
    or ``["body", "context", "key"]``.
    """
    errors: list[dict[str, Any]] = []

    def add(loc: list[Any], message: str) -> None:
        errors.append({"loc": ["body", *loc], "msg": message, "type": "value_error"})

    for key in _STRING_FIELDS:
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            add([key], f'{render(value)} is not of type "string"')
    webhook = data.get("webhook")
    if isinstance(webhook, str) and _WEBHOOK.search(webhook) is None:
        add(["webhook"], f"{render(webhook)} is not an http:// or https:// URL")
    context = data.get("context")
    if context is not None and not isinstance(context, dict):
        add(["context"], f'{render(context)} is not of type "object"')
    elif context:
        for key, value in context.items():
            if not isinstance(value, str):
                add(["context", key], f'{render(value)} is not of type "string"')
    events = data.get("webhook_events_filter")
    if events is not None and not isinstance(events, list):
        add(["webhook_events_filter"], f'{render(events)} is not of type "array"')
    elif events:
        for index, event in enumerate(events):
            if not isinstance(event, str) or event not in ALL_EVENTS:
                add(
                    ["webhook_events_filter", index],
                    f"{render(event)} is not one of {render(list(EVENTS))}",
                )
    return errors


def malformed(exc: Exception) -> MalformedRequestError:
    """The 400 error for a body that is not JSON (Cog's wording).

    A ``RecursionError`` is JSON nested deeper than the decoder goes (e.g.
    100 000 ``[``): unparsable too, and said so plainly.
    """
    if isinstance(exc, RecursionError):
        return MalformedRequestError(
            "Failed to parse the request body as JSON: it is nested too deeply"
        )
    return MalformedRequestError(f"Failed to parse the request body as JSON: {exc}")
