"""One message, from pickup to acknowledgement.

Pickup (``pickup.py``) asks Redis whether a result is recorded already (then
only acknowledge: idempotent by prediction id) and whether it was canceled
while queued; a reclaimed message also swaps its lease, who held it last,
the "last error" if it is dead-lettered. A message that cannot be a
prediction (not JSON, invalid input) is a ``failed`` result, recorded and
acknowledged, never retried. Everything else runs on the ``Runtime`` like
an HTTP prediction, and its events go to the response publisher.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import msgspec

from cogrt.clock import utc_now
from cogrt.errors import MalformedRequestError, RequestError
from cogrt.queue import keys
from cogrt.queue.message import text
from cogrt.worker.connection import OUTAGE
from cogrt.worker.pickup import Pickups

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from cogrt.runner.prediction import Prediction
    from cogrt.runner.runtime import Runtime
    from cogrt.worker.ledger import Held, Ledger
    from cogrt.worker.options import WorkerOptions
    from cogrt.worker.responses import ResponsePublisher

__all__ = ["Jobs", "prediction_id_of"]

log = logging.getLogger("cogrt.worker")
_EVENT_NAMES = {"start": "start", "output": "output", "log": "logs"}
_encoder = msgspec.json.Encoder()


def prediction_id_of(message_id: str, request: Any) -> str:
    """The request's ``id``, else one derived from the message id (stable across redeliveries)."""
    if isinstance(request, dict) and isinstance(request.get("id"), str) and request["id"]:
        return str(request["id"])
    return "pred_" + message_id.replace("-", "_")


def _parse(message_id: str, fields: dict[Any, Any]) -> tuple[str, bool, bytes, str | None]:
    """``(prediction id, training, request body, problem)``; a problem fails the prediction."""
    named = {text(k): v for k, v in fields.items()}
    raw = named.get("request")
    training = text(named.get("kind", b"prediction")) == "training"
    if raw is None:
        return prediction_id_of(message_id, None), training, b"", "message has no `request` field"
    body = raw if isinstance(raw, bytes) else raw.encode()
    try:
        request = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        return prediction_id_of(message_id, None), training, body, f"request is not JSON: {exc}"
    return prediction_id_of(message_id, request), training, body, None


def _unrun(prediction_id: str, body: bytes, status: str, error: str | None) -> bytes:
    """The terminal JSON of a prediction that never ran (failed at pickup, or canceled)."""
    try:
        given = msgspec.json.decode(body).get("input") if body else None
    except (msgspec.DecodeError, AttributeError):
        given = None
    now = utc_now()
    return _encoder.encode(
        {
            "id": prediction_id,
            "status": status,
            "input": given if isinstance(given, dict) else {},
            "output": None,
            "error": error,
            "logs": "",
            "metrics": {},
            "created_at": now,
            "started_at": None,
            "completed_at": now,
        }
    )


class Jobs:
    """Takes messages the intake read and sees each to its recorded result."""

    def __init__(
        self,
        runtime: Runtime,
        redis: Redis,
        publisher: ResponsePublisher,
        ledger: Ledger,
        options: WorkerOptions,
    ) -> None:
        self._runtime = runtime
        self._redis = redis
        self._publisher = publisher
        self._ledger = ledger
        self._options = options
        self.lease_ttl = max(1, int(options.result_ttl))
        self._pickups = Pickups(redis, self.lease_ttl)

    def take(
        self, message_id: str, fields: dict[Any, Any], *, delivery: int = 1, dead: bool = False
    ) -> None:
        """Hold the message now (its slot is counted in this loop step), handle it in a task.

        ``delivery``: how many times Redis delivered it; ``dead``: past ``--max-deliveries``.
        """
        prediction_id, training, body, problem = _parse(message_id, fields)
        held = self._ledger.add(prediction_id, message_id)
        if held is None:
            log.info("message %s repeats prediction %s held here", message_id, prediction_id)
            return
        task = asyncio.get_running_loop().create_task(
            self._handle(held, prediction_id, training, body, problem, fields, delivery, dead)
        )
        held.task = task

    async def _handle(
        self,
        held: Held,
        prediction_id: str,
        training: bool,
        body: bytes,
        problem: str | None,
        fields: dict[Any, Any],
        delivery: int,
        dead: bool,
    ) -> None:
        try:
            lease = None
            if delivery > 1:
                consumer = self._options.consumer
                lease = f"consumer {consumer} took it at {utc_now()} (delivery {delivery})"
            pickup = await self._pickups.check(prediction_id, lease)
            recorded, canceled, lease = pickup.recorded, pickup.canceled, pickup.previous_lease
            if recorded:
                log.info("prediction %s already has a result; acknowledging", prediction_id)
                await self._finish(held, None, None)
                return
            if dead:
                await self._dead_letter(held, prediction_id, body, fields, delivery, lease)
                return
            if problem is None and (canceled or held.cancel_requested):
                await self._finish(
                    held, prediction_id, _unrun(prediction_id, body, "canceled", None)
                )
                return
            if problem is not None:
                await self._finish(
                    held, prediction_id, _unrun(prediction_id, body, "failed", problem)
                )
                return
            await self._run(held, prediction_id, training, body)
        except Exception as exc:
            log.exception("prediction %s failed in the worker; left pending", prediction_id)
            held.abandoned = True  # stays pending: another delivery gets its chance
            await self.note(prediction_id, f"consumer {self._options.consumer} failed: {exc!r}")
        finally:
            if not held.abandoned and held.acked:
                await self._ack_joined(held)
            self._ledger.release(prediction_id)

    async def note(self, prediction_id: str, why: str) -> None:
        """Best effort: say in the lease why this delivery ends without a result."""
        try:
            await self._redis.set(keys.lease_key(prediction_id), why, ex=self.lease_ttl)
        except OUTAGE:
            pass

    async def _run(self, held: Held, prediction_id: str, training: bool, body: bytes) -> None:
        runtime = self._runtime
        try:
            request = runtime.decode_request(body, training=training)
        except (RequestError, MalformedRequestError) as exc:
            await self._finish(held, prediction_id, _unrun(prediction_id, body, "failed", str(exc)))
            return
        prediction = runtime.start(
            request, prediction_id=prediction_id, training=training, created_by="async"
        )
        held.prediction = prediction
        if not request.webhook:
            prediction.add_listener(self._listener(prediction))
        if held.cancel_requested:
            prediction.cancel()
        await prediction.wait()
        if held.abandoned:
            return
        await self._finish(held, prediction_id, prediction.to_json())

    def _listener(self, prediction: Prediction) -> Any:
        publisher = self._publisher

        def on_event(event: str, _data: Any) -> None:
            name = _EVENT_NAMES.get(event)
            if name is not None:
                publisher.event(prediction.id, name, prediction.to_json())

        return on_event

    async def _finish(self, held: Held, prediction_id: str | None, result: bytes | None) -> None:
        """Record ``result`` (None: it is recorded already) and acknowledge the messages."""
        message_ids = held.message_ids[held.acked :]
        await self._publisher.finish(prediction_id, result, message_ids)
        held.acked += len(message_ids)

    async def _ack_joined(self, held: Held) -> None:
        """Acknowledge duplicates that arrived while the result was being written."""
        while held.acked < len(held.message_ids):
            await self._finish(held, None, None)

    async def _dead_letter(
        self,
        held: Held,
        prediction_id: str,
        body: bytes,
        fields: dict[Any, Any],
        deliveries: int,
        lease: str | None,
    ) -> None:
        last = lease or "no worker recorded taking it"
        error = (
            f"delivered {deliveries} times, more than --max-deliveries"
            f" {self._options.max_deliveries}; last delivery: {last}, with no result"
        )
        log.warning(
            "prediction %s goes to %s: %s",
            prediction_id,
            keys.dead_stream(self._options.stream),
            error,
        )
        letter: dict[str, bytes | str] = {text(k): v for k, v in fields.items()}
        letter.update(
            {
                "error": error,
                "deliveries": str(deliveries),
                "message_id": held.message_ids[0],
                "prediction_id": prediction_id,
            }
        )
        result = _unrun(prediction_id, body, "failed", error)
        message_ids = list(held.message_ids)
        await self._publisher.finish(prediction_id, result, message_ids, dead_letter=letter)
        held.acked += len(message_ids)
