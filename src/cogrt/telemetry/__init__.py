"""Metrics and tracing: observers of the engine (``runner/observe.py``) and their outputs.

``metrics``: plain counters and histograms the runtime's observer updates on
the loop; ``exposition``: those as a Prometheus ``/metrics`` page (one
``CollectorRegistry`` per app; ``prometheus_client`` is imported at the first
scrape, not before READY); ``tracing``, ``otel``: OpenTelemetry spans, only
with the ``cogrt[otel]`` extra installed and ``OTEL_*`` asking for them.
"""
