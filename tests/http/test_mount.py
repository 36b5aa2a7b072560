"""``create_app`` inside a bigger Starlette app: the one-line lifespan, loud without it,
and ``GET /`` under the mount prefix."""

from __future__ import annotations

import asyncio
import logging

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from cogrt.http.app import create_app
from cogrt.runner.runtime import Runtime
from tests.support.predictors import HTTP

load = HTTP.load


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cogrt")


async def test_mounted_with_its_lifespan_it_sets_up_and_advertises_prefixed_urls() -> None:
    inner = create_app(load("http_trainer").Predictor, train=load("http_trainer").Predictor)
    outer = Starlette(routes=[Mount("/cog", app=inner)], lifespan=inner.lifespan)
    async with outer.router.lifespan_context(outer), client_for(outer) as client:
        assert await inner.state.runtime.wait_setup(30) == "READY"
        root = (await client.get("/cog/")).json()
        answered = await client.post("/cog/predictions", json={"input": {"text": "hi"}})
    assert answered.status_code == 200
    assert root["predictions_url"] == "/cog/predictions"
    assert root["predictions_cancel_url"] == "/cog/predictions/{prediction_id}/cancel"
    assert root["trainings_url"] == "/cog/trainings"
    assert root["healthcheck_url"] == "/cog/health-check"


async def test_unmounted_urls_have_no_prefix() -> None:
    app = create_app(load("http_echo").Predictor)
    async with app.router.lifespan_context(app), client_for(app) as client:
        root = (await client.get("/")).json()
    assert root["predictions_url"] == "/predictions"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def test_mounted_without_its_lifespan_every_request_names_the_fix() -> None:
    inner = create_app(load("http_echo").Predictor)
    outer = Starlette(routes=[Mount("/cog", app=inner)])  # the lifespan forgotten
    lines = _Lines()
    logger = logging.getLogger("cogrt.http")
    logger.addHandler(lines)
    try:
        async with outer.router.lifespan_context(outer), client_for(outer) as client:
            health = await client.get("/cog/health-check")
            predicted = await client.post("/cog/predictions", json={"input": {"text": "hi"}})
    finally:
        logger.removeHandler(lines)
    for answer in (health, predicted):
        assert answer.status_code == 500
        assert "lifespan=cog_app.lifespan" in answer.json()["detail"]
    assert len(lines.messages) == 1 and "lifespan=cog_app.lifespan" in lines.messages[0]


async def test_draining_logs_how_many_predictions_are_in_flight() -> None:
    gate = load("http_gate")
    lines = _Lines()
    logger = logging.getLogger("cogrt.runner.runtime")
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    try:
        async with Runtime(gate.Predictor) as runtime:
            await runtime.wait_setup(30)
            request = runtime.decode_request(b'{"input": {}}')
            prediction = runtime.start(request)
            await asyncio.to_thread(gate.STARTED.wait, 30)
            gate.RELEASE.set()
            await runtime.drain(30)
    finally:
        logger.removeHandler(lines)
        logger.setLevel(logging.NOTSET)
    assert prediction.status == "succeeded"
    assert "draining: 1 prediction(s) in flight, canceled after 30 s" in lines.messages
    assert "setup started" in lines.messages
