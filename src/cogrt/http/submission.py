"""Creating predictions over HTTP: admission in the spec's order (§11.2-§11.3).

POST and PUT, for predictions and trainings alike, run one function
(``submit``) whose steps follow the spec's order; every refusal is a body
from ``responses``. A sync request then waits for its prediction, canceled
if its client leaves first (``disconnect``). A request that finds every
slot taken waits briefly for a slot whose prediction is being canceled
(``CANCELED_SLOT_WAIT``), so a client that leaves and retries at once is
not refused. With an admission queue (:mod:`cogrt.runner.admission`) it
then waits in the queue; a client that leaves meanwhile leaves the queue.

A request that is certainly refused (every slot taken, no room in the
queue, its body naming no prediction in flight) gets its 409 without its
input being validated: the answer is known, and validating costs the loop
time the running predictions need. Its 409 is paced (:mod:`cogrt.http.refusals`).

A body is read as JSON whatever its declared ``Content-Type``; one that does
not parse is 400, or 415 when the client declared a non-JSON type (§8.1).

Every prediction of a streaming model is recorded by ``sse.Streams`` from
the moment it is created, however its answer is delivered, so an SSE client
can attach to it later with ``PUT`` (spec §14.4).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from cogrt.errors import (
    AtCapacityError,
    CogrtError,
    DuplicatePredictionError,
    MalformedRequestError,
    NotReadyError,
)
from cogrt.http.disconnect import Watching, finished_before_disconnect
from cogrt.http.incoming import read_body, requested_delivery, runtime_of
from cogrt.http.responses import (
    NOT_FOUND,
    TOO_LARGE,
    TOO_MANY_SUBSCRIBERS,
    error_response,
    json_response,
    no_streaming,
    shutting_down,
)
from cogrt.http.slot_wait import canceled_slot_freed, queued, refuse
from cogrt.http.sse import EventStreamResponse, Streams
from cogrt.runner.admission import Ticket
from cogrt.runner.prediction import Delivery, Prediction
from cogrt.runner.runtime import Runtime
from cogrt.schema.request import malformed
from cogrt.transfer.webhooks import TRACE_HEADERS

__all__ = ["submit"]

_ADMITTING = frozenset({"READY", "BUSY"})


class _IdPeek(msgspec.Struct):
    """Just the ``id`` of a body, read before validation (PUT checks it first, §11.3)."""

    id: Any = None


_peek_id = msgspec.json.Decoder(_IdPeek).decode


async def submit(request: Request, *, training: bool, path_id: str | None) -> Response:
    """POST and PUT for predictions and trainings, in the order of spec §11.2-§11.3."""
    delivery = requested_delivery(request)
    if training and delivery == "sse":
        return no_streaming(training=True)
    try:
        body = await read_body(request, request.app.state.max_body_size)
    except ClientDisconnect:
        return Response(status_code=400)
    if body is None:
        return json_response(413, TOO_LARGE)
    watching = None
    try:
        created = _create(request, body, path_id, delivery, training)
        if isinstance(created, _NoFreeSlot):
            watching = Watching(request.receive)
            created = await _wait_for_slot(
                request, body, path_id, delivery, training, created, watching
            )
        if not isinstance(created, Prediction):
            return created
        return await _deliver(request, created, delivery, watching)
    finally:
        if watching is not None:
            watching.stop()


async def _deliver(
    request: Request, prediction: Prediction, delivery: Delivery, watching: Watching | None
) -> Response:
    """The answer to a request that created ``prediction``, by how it asked for it."""
    runtime = runtime_of(request)
    if runtime.supports_streaming:
        # No event can have been emitted yet: the prediction's task has not run.
        _streams(request).track(prediction)
    if delivery == "sse":
        return _attach(request, prediction)
    if delivery == "async":
        return _current(prediction)
    if not await finished_before_disconnect(
        request.receive, prediction, many_slots=runtime.slots > 1, watching=watching
    ):
        return Response(status_code=499)  # nobody is listening any more
    return Response(prediction.to_json(), 200, media_type="application/json")


class _NoFreeSlot(NamedTuple):
    """``_create``'s answer when every slot is taken: the refusal, and the input if validated."""

    refused: AtCapacityError
    decoded: Any


async def _wait_for_slot(
    request: Request,
    body: bytes,
    path_id: str | None,
    delivery: Delivery,
    training: bool,
    busy: _NoFreeSlot,
    watching: Watching,
) -> Prediction | Response:
    """Every slot was taken: wait for a canceled one, then in the queue if there is one.

    Either way every check runs again: the state may have changed while this request waited.
    """
    runtime = runtime_of(request)
    if await canceled_slot_freed(runtime):
        created = _create(request, body, path_id, delivery, training)
        if not isinstance(created, _NoFreeSlot):
            return created
        busy = created
    if not runtime.admission.queue_max:
        return await refuse(request.app.state.refusals, busy.refused)
    try:
        ticket = await queued(runtime, watching)
    except AtCapacityError as exc:  # the queue is full, or the wait timed out
        if request.app.state.shutdown_requested.is_set():
            return shutting_down()
        return await refuse(request.app.state.refusals, exc)
    if ticket is None:
        return Response(status_code=499)  # the client left the queue
    try:  # with the slot reserved for this request, which cannot be refused again
        created = _create(request, body, path_id, delivery, training, ticket, busy.decoded)
    finally:
        ticket.release()  # unless the prediction took it: the slot goes to the next waiter
    assert not isinstance(created, _NoFreeSlot)
    return created


def _create(
    request: Request,
    body: bytes,
    path_id: str | None,
    delivery: Delivery,
    training: bool,
    ticket: Ticket | None = None,
    decoded: Any = None,
) -> Prediction | Response | _NoFreeSlot:
    """Admission checks in the spec's order, then start: the prediction, or the refusal.

    ``_NoFreeSlot`` when every slot is taken: ``submit`` decides whether to wait for one.
    ``decoded`` is the body as an earlier attempt validated it.
    """
    runtime = runtime_of(request)
    try:
        if path_id is not None:
            early = _put_precheck(request, body, path_id, delivery, training)
            if early is not None:
                return early
        if request.app.state.shutdown_requested.is_set():
            return shutting_down()
        status = runtime.status
        if status not in _ADMITTING:
            raise NotReadyError(status)
        if training and not runtime.supports_training:
            return json_response(404, {})
        if delivery == "sse" and not runtime.supports_streaming:
            return no_streaming(training=False)
        if ticket is None and runtime.admission.refuses and not _names_inflight(runtime, body):
            return _NoFreeSlot(AtCapacityError(runtime.slots), None)  # certain: not validated
        if decoded is None:
            decoded = runtime.decode_request(body, training=training)
        pid = path_id or decoded.id
        if pid is not None and (running := runtime.get(pid)) is not None:
            return _existing(request, running, delivery)
        return runtime.start(
            decoded,
            prediction_id=path_id,
            training=training,
            created_by=delivery,
            trace_headers=(
                _trace_headers(request)
                if decoded.webhook or runtime.observer.wants_trace_headers
                else None
            ),
            ticket=ticket,
        )
    except DuplicatePredictionError as exc:
        running = runtime.get(exc.prediction_id)
        return _existing(request, running, delivery) if running is not None else error_response(exc)
    except MalformedRequestError as exc:
        return _unparsable(request, exc)
    except AtCapacityError as exc:
        return _NoFreeSlot(exc, decoded)
    except CogrtError as exc:
        return error_response(exc)


def _names_inflight(runtime: Runtime, body: bytes) -> bool:
    """The body's ``id`` is a prediction in flight (answered with it, §11.3), or unreadable.

    An unreadable body is True so that the full path reports it (400 before 409, §11.2).
    A PUT's path id was looked up before (``_put_precheck``).
    """
    try:
        body_id = _peek_id(body or b"{}").id
    except (msgspec.DecodeError, RecursionError):  # ValidationError is a DecodeError
        return True
    return isinstance(body_id, str) and runtime.get(body_id) is not None


def _put_precheck(
    request: Request, body: bytes, path_id: str, delivery: Delivery, training: bool
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
    return _existing(request, running, delivery)


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


def _existing(request: Request, running: Prediction, delivery: Delivery) -> Response:
    """A request naming an in-flight id: SSE attaches to it, anything else gets 202 (§11.3)."""
    if delivery != "sse":
        return _current(running)
    if not runtime_of(request).supports_streaming:
        return no_streaming(training=False)
    return _attach(request, running)


def _attach(request: Request, prediction: Prediction) -> Response:
    """A new SSE subscriber: history replay, then live events (§14.4)."""
    log = _streams(request).get(prediction.id)
    if log is None:  # finished in the meantime, or started outside this app
        return json_response(404, NOT_FOUND)
    subscriber = log.subscribe()
    if subscriber is None:
        return json_response(429, TOO_MANY_SUBSCRIBERS)
    return EventStreamResponse(subscriber)


def _trace_headers(request: Request) -> dict[str, str]:
    """W3C trace context of the creating request, passed on to its webhooks (§13.3)."""
    return {name: value for name in TRACE_HEADERS if (value := request.headers.get(name))}


def _streams(request: Request) -> Streams:
    streams: Streams = request.app.state.streams
    return streams


def _current(prediction: Prediction) -> Response:
    return Response(prediction.to_json(), 202, media_type="application/json")
