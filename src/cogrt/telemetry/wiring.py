"""Attaching metrics and tracing to a ``Runtime``, for the HTTP app and the queue worker."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cogrt.runner.observe import combine
from cogrt.runner.runtime import Runtime
from cogrt.telemetry.exposition import Gauges, MetricsPage
from cogrt.telemetry.metrics import PredictionMetrics
from cogrt.telemetry.otel import tracer_provider_from_env

__all__ = ["observe"]


def observe(
    runtime: Runtime,
    *,
    metrics: bool,
    tracer_provider: Any = None,
    sse_subscribers: Callable[[], int] | None = None,
) -> MetricsPage | None:
    """Make ``runtime`` report to a new metrics page (returned) and, when tracing is
    wanted, to spans of ``tracer_provider`` (default: the one ``OTEL_*`` describes).

    Call before the runtime is entered: its webhook sender takes the observer then.
    """
    page = None
    if metrics:
        counts = PredictionMetrics()
        runtime.observer = combine(runtime.observer, counts)
        gauges = Gauges(
            slots=lambda: runtime.slots,
            queue_length=lambda: runtime.queue_length,
            sse_subscribers=sse_subscribers,
        )
        page = MetricsPage(counts, gauges)
    provider = tracer_provider if tracer_provider is not None else tracer_provider_from_env()
    if provider is not None:
        from cogrt.telemetry.tracing import SpanObserver

        runtime.observer = combine(runtime.observer, SpanObserver(provider))
    return page
