"""One OpenTelemetry span per prediction, with child spans for its phases and webhooks.

The prediction's span starts when it is admitted, as a child of the
creating request's ``traceparent`` when there is one (the globally
configured propagator: W3C trace context unless ``OTEL_PROPAGATORS`` says
otherwise), and ends with its terminal state. Its phases (``download``,
``predict``, ``upload``) are recorded as child spans when it ends, with the
times the runtime took on the way (``Prediction``'s phase timestamps), so the
hot path pays no span calls. ``setup`` is a span of its own; each webhook
delivery (a terminal one with its retries) is a child of its prediction's span.

Loaded only when ``otel.tracer_provider_from_env`` returned a provider, or a
caller passed one: this module imports OpenTelemetry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace

from cogrt.runner.observe import Observer
from cogrt.transfer.observer import WebhookSent

if TYPE_CHECKING:
    from cogrt.runner.prediction import Prediction

__all__ = ["SpanObserver"]

_log = logging.getLogger("cogrt.telemetry")
_OK = trace.Status(trace.StatusCode.OK)


class SpanObserver(Observer):
    """The runtime's observer for tracing: spans to ``provider``'s tracer."""

    wants_trace_headers = True

    def __init__(self, provider: trace.TracerProvider) -> None:
        from cogrt.version import __version__

        self._tracer = provider.get_tracer("cogrt", __version__)
        self._failed = False
        self._clock = _Clock()

    def setup_finished(self, succeeded: bool, began: float, ended: float) -> None:
        self._guarded(self._setup, succeeded, began, ended)

    def prediction_created(
        self, prediction: Prediction, trace_headers: Mapping[str, str] | None
    ) -> None:
        self._guarded(self._created, prediction, trace_headers)

    def prediction_finished(self, prediction: Prediction) -> None:
        self._guarded(self._finished, prediction)

    def webhook_sent(self, sent: WebhookSent) -> None:
        self._guarded(self._webhook, sent)

    def _guarded(self, method: Any, *args: Any) -> None:
        """Tracing never fails a prediction: a bug is logged once and skipped."""
        try:
            method(*args)
        except Exception:
            if not self._failed:
                self._failed = True
                _log.exception("recording a trace span failed")

    def _setup(self, succeeded: bool, began: float, ended: float) -> None:
        _ns = self._clock
        span = self._tracer.start_span("setup", start_time=_ns(began))
        span.set_status(_OK if succeeded else trace.Status(trace.StatusCode.ERROR))
        span.end(end_time=_ns(ended))

    def _created(self, prediction: Prediction, headers: Mapping[str, str] | None) -> None:
        parent = propagate.extract(headers) if headers else None
        name = "training" if prediction.training else "prediction"
        _ns = self._clock
        prediction.span = self._tracer.start_span(
            name,
            context=parent,
            kind=trace.SpanKind.SERVER,
            start_time=_ns(prediction.created_perf),
            attributes={
                "cog.prediction.id": prediction.id,
                "cogrt.delivery": prediction.created_by,
            },
        )

    def _finished(self, prediction: Prediction) -> None:
        span = prediction.span
        if span is None:
            return
        end = prediction.finished_perf or time.perf_counter()
        parent = trace.set_span_in_context(span)
        predict, upload = prediction.predict_perf, prediction.upload_perf
        _ns = self._clock
        if prediction.download_perf is not None:
            self._child(parent, "download", _ns(prediction.download_perf), _ns(predict or end))
        if predict is not None:
            self._child(parent, "predict", _ns(predict), _ns(upload or end))
        if upload is not None:
            self._child(parent, "upload", _ns(upload), _ns(end))
        span.set_attribute("cog.prediction.status", prediction.status)
        if prediction.status == "failed":
            span.set_status(trace.Status(trace.StatusCode.ERROR, prediction.error))
        span.end(end_time=_ns(end))

    def _child(self, parent: Any, name: str, began: int, ended: int) -> None:
        self._tracer.start_span(name, context=parent, start_time=began).end(ended)

    def _webhook(self, sent: WebhookSent) -> None:
        _ns = self._clock
        span = getattr(sent.record, "span", None)
        parent = trace.set_span_in_context(span) if span is not None else None
        child = self._tracer.start_span(
            "webhook",
            context=parent,
            kind=trace.SpanKind.CLIENT,
            start_time=_ns(sent.began),
            attributes={
                "cog.prediction.id": sent.prediction_id,
                "cogrt.webhook.terminal": sent.terminal,
            },
        )
        if not sent.delivered:
            child.set_status(trace.Status(trace.StatusCode.ERROR, "not delivered"))
        child.end(_ns(sent.ended))


class _Clock:
    """``perf_counter`` readings as the epoch nanoseconds spans want.

    One offset between the two clocks, renewed once a minute (the wall clock
    may be slewed): a span's children then nest exactly inside it, where an
    offset taken at each call would jitter by the time between the readings.
    """

    def __init__(self) -> None:
        self._taken = -_RENEW
        self._offset = 0

    def __call__(self, perf: float) -> int:
        if perf - self._taken > _RENEW:
            now = time.perf_counter()
            self._taken = now
            self._offset = time.time_ns() - int(now * 1e9)
        return self._offset + int(perf * 1e9)


_RENEW = 60.0
