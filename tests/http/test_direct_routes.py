"""The routes ``CogApp`` serves without Starlette's stack behave as if they went through it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from cogrt.http.app import create_app
from tests.support.harness import served
from tests.support.predictors import HTTP

load = HTTP.load


class Boom(RuntimeError):
    pass


def _raise(*_args: Any, **_kwargs: Any) -> Any:
    raise Boom("unexpected")


async def test_direct_and_routed_requests_answer_alike() -> None:
    async with served(load("http_echo").Predictor) as (client, _):
        direct = await client.post("/predictions", json={"input": {"text": "hi"}})
        routed = await client.put("/predictions/p1", json={"input": {"text": "hi"}})
        health = await client.get("/health-check")
        head = await client.head("/health-check")  # HEAD is not direct: Starlette answers it
    assert direct.status_code == routed.status_code == 200
    assert direct.headers["content-type"] == routed.headers["content-type"] == "application/json"
    assert direct.json()["output"] == routed.json()["output"]
    assert (health.status_code, health.json()["status"]) == (200, "READY")
    assert (head.status_code, head.content) == (200, b"")


async def test_an_unexpected_exception_is_a_plain_500_and_reaches_the_server() -> None:
    async with served(load("http_echo").Predictor) as (_, app):
        app.state.runtime.decode_request = _raise
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://cogrt") as client:
            answered = await client.post("/predictions", json={"input": {"text": "hi"}})
        strict = httpx.ASGITransport(app=app)  # raises what the app re-raises
        async with httpx.AsyncClient(transport=strict, base_url="http://cogrt") as client:
            with pytest.raises(Boom):
                await client.post("/predictions", json={"input": {"text": "hi"}})
    assert (answered.status_code, answered.text) == (500, "Internal Server Error")
    assert answered.headers["content-type"].startswith("text/plain")


async def test_a_mounted_app_is_routed_by_starlette() -> None:
    inner = create_app(load("http_echo").Predictor)
    outer = Starlette(
        routes=[Mount("/cog", app=inner)],
        lifespan=lambda _outer: inner.router.lifespan_context(inner),
    )
    async with outer.router.lifespan_context(outer):
        assert await inner.state.runtime.wait_setup(30) == "READY"
        transport = httpx.ASGITransport(app=outer)
        async with httpx.AsyncClient(transport=transport, base_url="http://cogrt") as client:
            mounted = await client.post("/cog/predictions", json={"input": {"text": "hi"}})
            outside = await client.post("/predictions", json={"input": {"text": "hi"}})
    assert mounted.status_code == 200
    assert mounted.json()["status"] == "succeeded"
    assert outside.status_code == 404
