"""Whether to trace, and the tracer provider the standard ``OTEL_*`` variables describe.

Nothing here imports OpenTelemetry unless tracing is wanted: an ``OTEL_*``
variable asks for it (``OTEL_TRACES_EXPORTER`` other than ``none``,
``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or
``OTEL_SERVICE_NAME``; ``OTEL_SDK_DISABLED=true`` wins) and the
``cogrt[otel]`` extra is installed. A provider already installed globally
(``opentelemetry-instrument``, or the embedding app's own) is used as it is.
Otherwise the SDK's own classes read the environment: ``Resource.create``
(``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``), ``TracerProvider``
(``OTEL_TRACES_SAMPLER``), ``BatchSpanProcessor`` (``OTEL_BSP_*``) and the
exporters (``OTEL_EXPORTER_OTLP_*``). Exporters are found by name in the
``opentelemetry_traces_exporter`` entry points, as the SDK's auto-configuration
does; ``otlp`` means the protocol ``OTEL_EXPORTER_OTLP[_TRACES]_PROTOCOL`` names,
by default ``http/protobuf`` (the specification's default; the extra installs it).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Mapping
from typing import Any

from cogrt.errors import ConfigError

__all__ = ["tracer_provider_from_env", "tracing_wanted"]

_log = logging.getLogger("cogrt.telemetry")
_ASKING = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SERVICE_NAME")
_OTLP_BY_PROTOCOL = {"grpc": "otlp_proto_grpc", "http/protobuf": "otlp_proto_http"}


def tracing_wanted(environ: Mapping[str, str] | None = None) -> bool:
    """An ``OTEL_*`` variable asks for traces (no import, no file access)."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = env.get("OTEL_TRACES_EXPORTER")
    if exporters is not None:
        return exporters.strip().lower() not in ("", "none")
    return any(env.get(name) for name in _ASKING)


def tracer_provider_from_env(environ: Mapping[str, str] | None = None) -> Any | None:
    """The provider to trace with, or None (not wanted, or the extra not installed)."""
    env = os.environ if environ is None else environ
    if not tracing_wanted(env):
        return None
    if importlib.util.find_spec("opentelemetry.sdk") is None:
        _log.warning(
            "OTEL_* variables ask for traces, but OpenTelemetry is not installed:"
            " pip install 'cogrt[otel]'"
        )
        return None
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = TracerProvider()
    for exporter in _exporters(env):
        provider.add_span_processor(BatchSpanProcessor(exporter()))
    trace.set_tracer_provider(provider)
    return provider


def _exporters(env: Mapping[str, str]) -> list[Any]:
    from importlib.metadata import entry_points

    names = env.get("OTEL_TRACES_EXPORTER") or "otlp"
    found = []
    for raw in names.split(","):
        name = raw.strip()
        if name == "otlp":
            protocol = (
                env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
                or "http/protobuf"
            )
            name = _OTLP_BY_PROTOCOL.get(protocol.strip(), name)
        points = entry_points(group="opentelemetry_traces_exporter", name=name)
        if not points:
            raise ConfigError(
                f"OTEL_TRACES_EXPORTER names {name!r}, which no installed package provides:"
                " install its exporter (cogrt[otel] brings console and otlp over http/protobuf)"
            )
        found.append(next(iter(points)).load())
    return found
