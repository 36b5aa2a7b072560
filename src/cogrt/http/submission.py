"""Creating predictions over HTTP: mode, body limit, admission, the error table (spec §11.2-§11.3).

POST and PUT, for predictions and trainings alike, run one function
(``submit``) whose steps follow the spec's order. Every refusal goes through
``_ERRORS`` or a fixed body here, so the wire bodies Cog's clients match
byte for byte live in one place; all JSON is compact.

A sync request waits for its prediction while watching the ASGI channel for
``http.disconnect``; a client that leaves (or a handler the server cancels)
cancels the prediction, so a slot is never held for nobody. A request that
finds every slot taken waits briefly for a slot whose prediction is being
canceled (``CANCELED_SLOT_WAIT``), so a client that leaves and retries at
once is not refused.

A body is read as JSON whatever its declared ``Content-Type``; one that does
not parse is 400, or 415 when the client declared a non-JSON type (§8.1).

Every prediction of a streaming model is recorded by ``sse.Streams`` from
the moment it is created, whatever its mode, so an SSE client can attach to
it later with ``PUT`` (spec §14.4).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive

from cogrt.errors import (
    AtCapacityError,
    CogrtError,
    DuplicatePredictionError,
    MalformedRequestError,
    NotReadyError,
    PredictionNotFoundError,
    RequestError,
)
from cogrt.http.sse import EventStreamResponse, Streams
from cogrt.runner.prediction import Prediction
from cogrt.runner.runtime import Runtime
from cogrt.schema.request import malformed
from cogrt.transfer.webhooks import TRACE_HEADERS

__all__ = [
    "CANCELED_SLOT_WAIT",
    "WATCH_DISCONNECT_AFTER",
    "error_response",
    "json_response",
    "read_body",
    "request_mode",
    "runtime_of",
    "submit",
]

Mode = Literal["sync", "async", "sse"]
_ADMITTING = frozenset({"READY", "BUSY"})
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
WATCH_DISCONNECT_AFTER = 0.25
"""Seconds a sync request to a many-slot model runs before its client's leaving is watched for."""
CANCELED_SLOT_WAIT = 5.0
"""Seconds a request that finds every slot taken waits for a canceled prediction to free one."""
_NOT_FOUND = {"error": "Prediction not found"}
_TOO_MANY_SUBSCRIBERS = {"error": "Too many stream subscribers"}
_TOO_LARGE = {"error": "Request body too large", "status": "failed"}
_SHUTTING_DOWN = _encode({"error": "Server is shutting down", "status": "failed"})


class _IdPeek(msgspec.Struct):
    """Just the ``id`` of a body, read before validation (PUT checks it first, §11.3)."""

    id: Any = None


_peek_id = msgspec.json.Decoder(_IdPeek).decode


async def submit(request: Request, *, training: bool, path_id: str | None) -> Response:
    """POST and PUT for predictions and trainings, in the order of spec §11.2-§11.3."""
    runtime = runtime_of(request)
    mode = request_mode(request)
    if training and mode == "sse":
        return json_response(406, _NO_SSE[True])
    try:
        body = await read_body(request, request.app.state.max_body_size)
    except ClientDisconnect:
        return Response(status_code=400)
    if body is None:
        return json_response(413, _TOO_LARGE)
    try:
        created = _create(request, body, path_id, mode, training)
    except AtCapacityError as exc:
        if not await _canceled_slot_freed(runtime):
            return error_response(exc)
        try:  # every check again: the state may have changed while this request waited
            created = _create(request, body, path_id, mode, training)
        except AtCapacityError as again:
            return error_response(again)
    if not isinstance(created, Prediction):
        return created
    prediction = created
    if runtime.supports_streaming:
        # No event can have been emitted yet: the prediction's task has not run.
        _streams(request).track(prediction)
    if mode == "sse":
        return _attach(request, prediction)
    if mode == "async":
        return Response(prediction.to_json(), 202, media_type="application/json")
    if not await _finished_before_disconnect(
        request.receive, prediction, many_slots=runtime.slots > 1
    ):
        return Response(status_code=499)  # nobody is listening any more
    return Response(prediction.to_json(), 200, media_type="application/json")


def _create(
    request: Request, body: bytes, path_id: str | None, mode: Mode, training: bool
) -> Prediction | Response:
    """Admission checks in the spec's order, then start: the prediction, or the refusal.

    ``AtCapacityError`` propagates: ``submit`` decides whether a slot is about to free.
    """
    runtime = runtime_of(request)
    try:
        if path_id is not None:
            early = _put_precheck(request, body, path_id, mode, training)
            if early is not None:
                return early
        if request.app.state.shutdown_requested.is_set():
            return _shutting_down()
        status = runtime.status
        if status not in _ADMITTING:
            raise NotReadyError(status)
        if training and not runtime.supports_training:
            return json_response(404, {})
        if mode == "sse" and not runtime.supports_streaming:
            return json_response(406, _NO_SSE[False])
        decoded = runtime.decode_request(body, training=training)
        pid = path_id or decoded.id
        if pid is not None and (running := runtime.get(pid)) is not None:
            return _existing(request, running, mode)
        return runtime.start(
            decoded,
            prediction_id=path_id,
            training=training,
            created_by=mode,
            trace_headers=_trace_headers(request) if decoded.webhook else None,
        )
    except DuplicatePredictionError as exc:
        running = runtime.get(exc.prediction_id)
        return _existing(request, running, mode) if running is not None else error_response(exc)
    except MalformedRequestError as exc:
        return _unparsable(request, exc)
    except AtCapacityError:
        raise
    except CogrtError as exc:
        return error_response(exc)


async def _canceled_slot_freed(runtime: Runtime) -> bool:
    """With every slot taken: wait (bounded) for a canceled prediction to free one.

    A slot whose prediction was canceled is being freed, not busy: a client
    that disconnects (or cancels) and at once sends its next request must not
    get 409 because the canceled code had not reached its next bytecode yet
    (a sync predictor's thread stops there; its slot stays taken until it
    does, spec §16.3). False, so the caller answers 409, when no prediction
    is canceling or none stopped within ``CANCELED_SLOT_WAIT``: then the
    slot is truly busy (a C call that ignores the cancel).
    """
    canceling = runtime.canceling()
    if not canceling:
        return False
    waiters = [asyncio.ensure_future(prediction.wait()) for prediction in canceling]
    try:
        done, _ = await asyncio.wait(
            waiters, timeout=CANCELED_SLOT_WAIT, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        for waiter in waiters:
            waiter.cancel()
    return bool(done)


def _put_precheck(
    request: Request, body: bytes, path_id: str, mode: Mode, training: bool
) -> Response | None:
    """PUT's id rules: a mismatched body id is 422; an in-flight id is not started again (§11.3)."""
    try:
        body_id = _peek_id(body or b"{}").id
    except msgspec.ValidationError:
        body_id = None  # not an object: decode_request reports it with its location
    except (msgspec.DecodeError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise malformed(exc) from exc
    if body_id is not None and body_id != path_id:
        noun = "training" if training else "prediction"
        msg = f"{noun} ID must match the ID supplied in the URL"
        return json_response(
            422, {"detail": [{"loc": ["body", "id"], "msg": msg, "type": "value_error"}]}
        )
    running = runtime_of(request).get(path_id)
    if running is None:
        return None
    return _existing(request, running, mode)


def _unparsable(request: Request, exc: MalformedRequestError) -> Response:
    """A body that is not JSON: 415 if the client declared another media type, else 400.

    A body that does parse is accepted whatever its ``Content-Type`` (spec
    §8.1: ``curl -d`` sends form-urlencoded, many Cog clients send none), so
    this only decides how to refuse: a declared non-JSON type tells the
    client what to fix.
    """
    declared = request.headers.get("content-type", "")
    media_type = declared.split(";", 1)[0].strip().lower()
    if not media_type or media_type == "application/json" or media_type.endswith("+json"):
        return error_response(exc)
    message = f"Unsupported Media Type: expected application/json, got {media_type}"
    return json_response(415, {"error": message, "status": "failed"})


def _existing(request: Request, running: Prediction, mode: Mode) -> Response:
    """A request naming an in-flight id: SSE attaches to it, anything else gets 202 (§11.3)."""
    if mode != "sse":
        return _current(running)
    if not runtime_of(request).supports_streaming:
        return json_response(406, _NO_SSE[False])
    return _attach(request, running)


def _attach(request: Request, prediction: Prediction) -> Response:
    """A new SSE subscriber: history replay, then live events (§14.4)."""
    log = _streams(request).get(prediction.id)
    if log is None:  # finished in the meantime, or started outside this app
        return json_response(404, _NOT_FOUND)
    subscriber = log.subscribe()
    if subscriber is None:
        return json_response(429, _TOO_MANY_SUBSCRIBERS)
    return EventStreamResponse(subscriber)


async def _finished_before_disconnect(
    receive: Receive, prediction: Prediction, *, many_slots: bool
) -> bool:
    """Wait for a sync prediction; cancel it if the client goes away first (decision #34).

    With many slots, nobody listens for the client leaving during the first
    ``WATCH_DISCONNECT_AFTER`` seconds: a watcher task per request cost about
    a tenth of a short prediction's CPU, a briefly held slot is one of many,
    and the server remembers a disconnect, so a later watcher still sees it
    at once. With one slot the watcher starts at once: a client that gives up
    and retries must find the slot free. Cancel also happens when the server
    cancels this handler, so a slot can never stay taken by a request nobody
    waits for.
    """
    loop = asyncio.get_running_loop()
    watcher: asyncio.Task[None] | None = None

    def watch() -> None:
        nonlocal watcher
        watcher = loop.create_task(_cancel_on_disconnect(receive, prediction))

    timer = loop.call_later(WATCH_DISCONNECT_AFTER, watch) if many_slots else None
    if timer is None:
        watch()
    try:
        await prediction.wait()
    finally:
        if timer is not None:
            timer.cancel()
        if watcher is not None and not watcher.done():
            watcher.cancel()
        if not prediction.done:  # this handler was cancelled by the server
            prediction.cancel()
    return watcher is None or watcher.cancelled() or not watcher.done()


async def _cancel_on_disconnect(receive: Receive, prediction: Prediction) -> None:
    """One task per sync request: it alone listens for the client leaving."""
    try:
        await _disconnect(receive)
    except Exception:  # a broken receive channel means the client is gone as well
        pass
    prediction.cancel()


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def read_body(request: Request, limit: int) -> bytes | None:
    """The body, or ``None`` once it exceeds ``limit`` (nothing past it is buffered)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    # Straight from the ASGI channel: Request.stream()'s async generator cost
    # more than the rest of reading a small body.
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def request_mode(request: Request) -> Mode:
    """SSE if ``Accept`` lists text/event-stream, async on ``Prefer: respond-async`` (§11.2)."""
    accept = ",".join(request.headers.getlist("accept")).lower()
    if "text/event-stream" in accept and any(
        part.split(";", 1)[0].strip() == "text/event-stream" for part in accept.split(",")
    ):
        return "sse"
    prefer = ",".join(request.headers.getlist("prefer")).lower()
    if "respond-async" in prefer and any(
        token.strip() == "respond-async" for token in prefer.replace(";", ",").split(",")
    ):
        return "async"
    return "sync"


def runtime_of(request: Request) -> Runtime:
    """The ``Runtime`` of the app serving ``request``."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def _trace_headers(request: Request) -> dict[str, str]:
    """W3C trace context of the creating request, passed on to its webhooks (§13.3)."""
    return {name: value for name in TRACE_HEADERS if (value := request.headers.get(name))}


def _streams(request: Request) -> Streams:
    streams: Streams = request.app.state.streams
    return streams


def json_response(status: int, body: Any) -> Response:
    return Response(_encode(body), status, media_type="application/json")


def _shutting_down() -> Response:
    """503 during a graceful stop; ``Connection: close`` sends a keep-alive client elsewhere."""
    return Response(_SHUTTING_DOWN, 503, {"connection": "close"}, "application/json")


def _current(prediction: Prediction) -> Response:
    return Response(prediction.to_json(), 202, media_type="application/json")


def error_response(exc: CogrtError) -> Response:
    for kind, status, body in _ERRORS:
        if isinstance(exc, kind):
            return json_response(status, body(exc))
    return json_response(500, {"error": str(exc), "status": "failed"})
