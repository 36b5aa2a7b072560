"""OpenTelemetry spans on both servers, recorded by the SDK's in-memory exporter.

One span per prediction (a child of the request's ``traceparent`` when it
has one), children for its phases and its webhook, a span for setup; and
the ``OTEL_*`` configuration of a real ``python -m cogrt``.
"""

from __future__ import annotations

import base64
import json
import re

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from cogrt.http.app import create_app
from cogrt.telemetry.otel import tracing_wanted
from tests.support.app_server import app_server
from tests.support.predictors import RUNNER
from tests.support.server_process import running
from tests.support.waiting import until
from tests.support.webhook_receiver import Receiver

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name == name]


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


async def test_prediction_span_honours_traceparent_with_phase_and_webhook_children(
    http: str, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    app = create_app(RUNNER.load("path_in").Predictor, tracer_provider=provider, metrics=False)
    data = "data:text/plain;base64," + base64.b64encode(b"hello").decode()
    async with Receiver() as receiver, app_server(app, http) as client:
        body = {
            "input": {"doc": data},
            "webhook": receiver.url,
            "webhook_events_filter": ["completed"],
        }
        response = await client.post(
            "/predictions", json=body, headers={"traceparent": TRACEPARENT}
        )
        assert response.json()["output"] == "hello"
        await receiver.wait_for(lambda hooks: len(hooks) == 1)
        await until(lambda: len(named(exporter, "webhook")) == 1)
    (setup,) = named(exporter, "setup")
    assert setup.status.status_code == StatusCode.OK
    (prediction,) = named(exporter, "prediction")
    context = prediction.get_span_context()
    assert f"{context.trace_id:032x}" == TRACE_ID
    assert parent_id(prediction) == int(PARENT_ID, 16)
    assert prediction.attributes is not None
    assert prediction.attributes["cog.prediction.status"] == "succeeded"
    assert prediction.attributes["cog.prediction.id"] == response.json()["id"]
    for name in ("download", "predict", "webhook"):
        (child,) = named(exporter, name)
        assert child.get_span_context().trace_id == context.trace_id
        assert parent_id(child) == context.span_id
    download, predict = named(exporter, "download")[0], named(exporter, "predict")[0]
    assert prediction.start_time <= download.start_time <= download.end_time  # type: ignore[operator]
    assert download.end_time <= predict.start_time <= predict.end_time <= prediction.end_time  # type: ignore[operator]
    assert receiver.hooks[0].headers["traceparent"] == TRACEPARENT


async def test_without_traceparent_a_failed_prediction_is_a_root_span_with_an_error(
    http: str, provider: TracerProvider, exporter: InMemorySpanExporter
) -> None:
    app = create_app(RUNNER.load("predict_fails").Sync, tracer_provider=provider)
    async with app_server(app, http) as client:
        response = await client.post("/predictions", json={"input": {"text": "y"}})
    assert response.json()["status"] == "failed"
    (prediction,) = named(exporter, "prediction")
    assert prediction.parent is None
    assert prediction.status.status_code == StatusCode.ERROR
    assert "bad input" in (prediction.status.description or "")
    assert not named(exporter, "upload")  # no upload URL: no upload phase


def test_tracing_wanted_reads_the_standard_variables() -> None:
    assert not tracing_wanted({})
    assert tracing_wanted({"OTEL_SERVICE_NAME": "m"})
    assert tracing_wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert tracing_wanted({"OTEL_TRACES_EXPORTER": "console"})
    assert not tracing_wanted({"OTEL_TRACES_EXPORTER": "none", "OTEL_SERVICE_NAME": "m"})
    assert not tracing_wanted({"OTEL_SDK_DISABLED": "true", "OTEL_SERVICE_NAME": "m"})


def test_cli_traces_to_the_exporter_otel_variables_name(
    http: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "cogrt-test-model")
    with running("http_echo.py:Predictor", "--no-supervise", http=http) as server:
        response = httpx.post(
            f"{server.url}/predictions",
            json={"input": {"text": "a"}},
            headers={"traceparent": TRACEPARENT},
            timeout=10,
        )
        assert response.status_code == 200
        httpx.post(f"{server.url}/shutdown", timeout=10)
        assert server.process.wait(30) == 0  # the provider flushes its spans at exit
        output = server.output()
    spans = [json.loads(block) for block in re.findall(r"^\{\n.*?^\}$", output, re.M | re.S)]
    prediction = next(span for span in spans if span["name"] == "prediction")
    assert prediction["context"]["trace_id"] == f"0x{TRACE_ID}"
    assert prediction["parent_id"] == f"0x{PARENT_ID}"
    assert prediction["resource"]["attributes"]["service.name"] == "cogrt-test-model"
    assert {span["name"] for span in spans} >= {"setup", "prediction", "predict"}
