"""``/metrics``: the counts of ``PredictionMetrics`` in Prometheus' text format.

``prometheus_client`` takes ~150 ms to import, a third of cogrt's start-up,
so nothing imports it before the first scrape; that import then runs in a
thread, beside serving. The counts live in ``PredictionMetrics`` from the
start, so nothing that happened before the first scrape is lost. Each app
has its own ``CollectorRegistry``: two apps in one process never share a
number. Gauges (slots, queue, SSE subscribers) are read at scrape time from
the callables given, and cost nothing in between.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Iterator
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from cogrt.telemetry.metrics import DURATION_BUCKETS, PredictionMetrics

if TYPE_CHECKING:
    from prometheus_client.registry import CollectorRegistry

__all__ = ["CONTENT_TYPE", "Gauges", "MetricsPage"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_MODULES = ("prometheus_client.core", "prometheus_client.exposition", "prometheus_client.registry")
_BOUNDS = [*(format(bound, "g") for bound in DURATION_BUCKETS), "+Inf"]


class Gauges:
    """What is read at scrape time; each a callable returning the current value."""

    def __init__(
        self,
        slots: Callable[[], int],
        queue_length: Callable[[], int] = lambda: 0,
        sse_subscribers: Callable[[], int] | None = None,
    ) -> None:
        self.slots = slots
        self.queue_length = queue_length
        self.sse_subscribers = sse_subscribers


class MetricsPage:
    """Renders one app's metrics; the registry is made at the first ``render``."""

    def __init__(self, metrics: PredictionMetrics, gauges: Gauges) -> None:
        self.metrics = metrics
        self.gauges = gauges
        self._registry: CollectorRegistry | None = None

    async def render(self) -> bytes:
        if self._registry is None:
            for name in _MODULES:  # in a thread: the loop keeps serving meanwhile
                await asyncio.to_thread(importlib.import_module, name)
            self._registry = _registry(self)
        from prometheus_client.exposition import generate_latest

        return generate_latest(self._registry)

    def collect(self) -> Iterator[Any]:
        """The metric families now (``prometheus_client``'s collector protocol)."""
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        m, g = self.metrics, self.gauges
        predictions = CounterMetricFamily(
            "cogrt_predictions",
            "Predictions and trainings that reached a terminal state.",
            labels=["status", "mode", "delivery"],
        )
        for key, count in m.predictions.items():
            predictions.add_metric(key, count)
        yield predictions
        phases = HistogramMetricFamily(
            "cogrt_prediction_phase_seconds",
            "Time a prediction spent in each phase: queue_wait (waiting in the admission queue"
            " for a slot; 0 when one was free),"
            " input_download (file inputs fetched), predict (user code), output_upload"
            " (file outputs stored after the code returned).",
            labels=["phase"],
        )
        for phase, histogram in m.phases.items():
            cumulative = list(zip(_BOUNDS, accumulate(histogram.counts), strict=True))
            phases.add_metric([phase], cumulative, histogram.sum)
        yield phases
        yield GaugeMetricFamily("cogrt_slots", "Predictions that can run at once.", value=g.slots())
        yield GaugeMetricFamily("cogrt_slots_in_use", "Predictions running now.", value=m.in_flight)
        yield GaugeMetricFamily(
            "cogrt_queue_length",
            "Requests admitted and waiting for a slot.",
            value=g.queue_length(),
        )
        setup = GaugeMetricFamily(
            "cogrt_setup_status", "1 for the setup's current status.", labels=["status"]
        )
        for status in ("starting", "succeeded", "failed"):
            setup.add_metric([status], float(m.setup_status == status))
        yield setup
        if m.setup_seconds is not None:
            yield GaugeMetricFamily(
                "cogrt_setup_duration_seconds",
                "How long loading the model and setup() took.",
                value=m.setup_seconds,
            )
        webhooks = CounterMetricFamily(
            "cogrt_webhooks",
            "Webhook deliveries: an intermediate POST, or a terminal payload after its retries.",
            labels=["kind", "result"],
        )
        for (kind, result), count in m.webhooks.items():
            webhooks.add_metric([kind, result], count)
        yield webhooks
        if g.sse_subscribers is not None:
            yield GaugeMetricFamily(
                "cogrt_sse_subscribers",
                "Server-sent event streams open now.",
                value=g.sse_subscribers(),
            )
        refused = CounterMetricFamily(
            "cogrt_requests_refused",
            "Prediction requests answered without a prediction, by reason.",
            labels=["reason"],
        )
        for reason, count in m.refusals.items():
            refused.add_metric([reason], count)
        yield refused


def _registry(page: MetricsPage) -> CollectorRegistry:
    from prometheus_client import ProcessCollector
    from prometheus_client.registry import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(page)
    ProcessCollector(registry=registry)  # CPU, resident memory, open fds of this process
    return registry
