"""The error table and the fixed refusal bodies of the HTTP API (spec §11, §20).

Every refusal goes through ``error_response`` or a body here, so the wire
bodies Cog's clients match byte for byte live in one place; all JSON is
compact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from starlette.responses import Response

from cogrt.errors import (
    AtCapacityError,
    CogrtError,
    MalformedRequestError,
    NotReadyError,
    PredictionNotFoundError,
    RequestError,
)

__all__ = [
    "NOT_FOUND",
    "TOO_LARGE",
    "TOO_MANY_SUBSCRIBERS",
    "error_response",
    "json_response",
    "no_streaming",
    "shutting_down",
]

_encode = msgspec.json.Encoder().encode
_AT_CAPACITY = {
    "error": "At capacity - all prediction slots busy",
    "status": "failed",
    "detail": "Already running a prediction",
}
_ERRORS: tuple[tuple[type[CogrtError], int, Callable[[Any], Any]], ...] = (
    (NotReadyError, 503, lambda exc: {"error": str(exc), "status": "failed"}),
    (AtCapacityError, 409, lambda exc: _AT_CAPACITY),
    (RequestError, 422, lambda exc: {"detail": exc.detail}),
    (MalformedRequestError, 400, lambda exc: {"error": str(exc)}),
    (PredictionNotFoundError, 404, lambda exc: {}),
)
_NO_SSE = {
    False: {
        "error": "This model does not support streaming responses. "
        "Add @cog.streaming to predict() to enable SSE."
    },
    True: {"error": "Training endpoints do not support streaming responses."},
}
NOT_FOUND = {"error": "Prediction not found"}
TOO_MANY_SUBSCRIBERS = {"error": "Too many stream subscribers"}
TOO_LARGE = {"error": "Request body too large", "status": "failed"}
_SHUTTING_DOWN = _encode({"error": "Server is shutting down", "status": "failed"})


def json_response(status: int, body: Any) -> Response:
    return Response(_encode(body), status, media_type="application/json")


def error_response(exc: CogrtError) -> Response:
    for kind, status, body in _ERRORS:
        if isinstance(exc, kind):
            return json_response(status, body(exc))
    return json_response(500, {"error": str(exc), "status": "failed"})


def no_streaming(*, training: bool) -> Response:
    """406 for an SSE request the model (or a training endpoint) cannot stream (§11.2)."""
    return json_response(406, _NO_SSE[training])


def shutting_down() -> Response:
    """503 during a graceful stop; ``Connection: close`` sends a keep-alive client elsewhere."""
    return Response(_SHUTTING_DOWN, 503, {"connection": "close"}, "application/json")
