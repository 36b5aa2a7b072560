"""``GET /metrics`` on both servers: every family present, each moving with its event."""

from __future__ import annotations

import asyncio

import httpx

from cogrt.http.app import create_app
from tests.support.app_server import app_server
from tests.support.metrics_page import FAMILIES, scrape, scrape_until
from tests.support.predictors import HTTP
from tests.support.server_process import running
from tests.support.waiting import until
from tests.support.webhook_receiver import Receiver

load = HTTP.load
SSE = {"accept": "text/event-stream"}


async def test_families_present_and_slots_predictions_refusals_moving(http: str) -> None:
    gate = load("http_gate")
    try:
        async with app_server(create_app(gate.Predictor), http) as client:
            before = await scrape(client)
            assert set(FAMILIES) <= before.families.keys()
            assert before.value("cogrt_setup_status", status="succeeded") == 1
            assert before.value("cogrt_setup_status", status="starting") == 0
            assert before.value("cogrt_setup_duration_seconds") > 0
            assert before.value("cogrt_slots") == 1
            assert before.value("cogrt_slots_in_use") == 0
            assert before.value("cogrt_queue_length") == 0
            assert before.value("cogrt_predictions_total") == 0

            held = asyncio.ensure_future(client.post("/predictions", json={"input": {}}))
            await until(gate.STARTED.is_set)
            busy = await scrape(client)
            assert busy.value("cogrt_slots_in_use") == 1
            assert (await client.post("/predictions", json={"input": {}})).status_code == 409
            assert (await client.post("/predictions", content=b"{")).status_code == 400
            gate.RELEASE.set()
            assert (await held).json()["status"] == "succeeded"
            after = await scrape(client)
    finally:
        gate.RELEASE.set()
    sync = {"status": "succeeded", "mode": "predict", "delivery": "sync"}
    assert after.value("cogrt_predictions_total", **sync) == 1
    assert after.value("cogrt_slots_in_use") == 0
    assert after.value("cogrt_requests_refused_total", reason="at_capacity") == 1
    assert after.value("cogrt_requests_refused_total", reason="invalid") == 1
    for phase in ("queue_wait", "predict"):
        assert after.value("cogrt_prediction_phase_seconds_count", phase=phase) == 1
        assert after.value("cogrt_prediction_phase_seconds_bucket", phase=phase, le="+Inf") == 1
    for phase in ("input_download", "output_upload"):  # no file inputs, no upload URL
        assert after.value("cogrt_prediction_phase_seconds_count", phase=phase) == 0


async def test_webhook_deliveries_and_failures(http: str) -> None:
    echo = load("http_echo")
    async with (
        Receiver(statuses=[400]) as receiver,  # the first terminal payload is refused
        app_server(create_app(echo.Predictor), http) as client,
    ):
        for sent in range(2):
            body = {
                "input": {"text": "x"},
                "webhook": receiver.url,
                "webhook_events_filter": ["completed"],
            }
            response = await client.post(
                "/predictions", json=body, headers={"prefer": "respond-async"}
            )
            assert response.status_code == 202
            await receiver.wait_for(lambda hooks, sent=sent: len(hooks) > sent)
        page = await scrape_until(
            client,
            lambda p: (
                p.value("cogrt_webhooks_total", kind="terminal", result="failed") == 1
                and p.value("cogrt_webhooks_total", kind="terminal", result="delivered") == 1
            ),
        )
    async_run = {"status": "succeeded", "mode": "predict", "delivery": "async"}
    assert page.value("cogrt_predictions_total", **async_run) == 2


async def test_sse_subscribers_gauge(http: str) -> None:
    gate = load("sse_gate")
    try:
        async with app_server(create_app(gate.Predictor), http) as client:
            async with client.stream(
                "POST", "/predictions", json={"input": {}}, headers=SSE
            ) as stream:
                await until(gate.PAUSED.is_set)
                assert (await scrape(client)).value("cogrt_sse_subscribers") == 1
                gate.RELEASE.set()
                await stream.aread()
            page = await scrape(client)
    finally:
        gate.RELEASE.set()
    assert page.value("cogrt_sse_subscribers") == 0
    sse = {"status": "succeeded", "mode": "predict", "delivery": "sse"}
    assert page.value("cogrt_predictions_total", **sse) == 1


async def test_two_apps_in_one_process_count_apart() -> None:
    echo = load("http_echo")
    async with (
        app_server(create_app(echo.Predictor), "hypercorn") as one,
        app_server(create_app(echo.Predictor), "hypercorn") as two,
    ):
        assert (await one.post("/predictions", json={"input": {}})).status_code == 200
        first, second = await scrape(one), await scrape(two)
    assert first.value("cogrt_predictions_total") == 1
    assert second.value("cogrt_predictions_total") == 0


def test_cli_serves_metrics_unless_told_not_to(http: str) -> None:
    with running("http_echo.py:Predictor", http=http) as server:
        httpx.post(f"{server.url}/predictions", json={"input": {"text": "a"}}, timeout=10)
        text = httpx.get(f"{server.url}/metrics", timeout=10).text
    assert 'cogrt_predictions_total{delivery="sync",mode="predict",status="succeeded"} 1.0' in text
    with running("http_echo.py:Predictor", "--no-metrics", http=http) as server:
        assert httpx.get(f"{server.url}/metrics", timeout=10).status_code == 404


async def test_metrics_off_by_argument_and_environment(monkeypatch) -> None:
    echo = load("http_echo")
    async with app_server(create_app(echo.Predictor, metrics=False), "hypercorn") as client:
        assert (await client.get("/metrics")).status_code == 404
    monkeypatch.setenv("COGRT_METRICS", "0")
    async with app_server(create_app(echo.Predictor), "hypercorn") as client:
        assert (await client.get("/metrics")).status_code == 404
