"""Every endpoint of spec §11 and every refusal in the error table, in process."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from cogrt.config import Settings
from tests.support.harness import served
from tests.support.predictors import HTTP

load = HTTP.load

NOT_READY = (
    b'{"error":"Setup has not finished yet. Wait until it has finished, '
    b'or GET /health-check for status.","status":"failed"}'
)
SETUP_FAILED = (
    b'{"error":"Setup failed, so this server cannot run predictions. '
    b'GET /health-check for the setup logs.","status":"failed"}'
)
AT_CAPACITY = (
    b'{"error":"At capacity - all prediction slots busy","status":"failed",'
    b'"detail":"Already running a prediction"}'
)
NO_SSE = (
    b'{"error":"This model does not support streaming responses. '
    b'Add @cog.streaming to predict() to enable SSE."}'
)


async def test_root_lists_prediction_urls_only_without_training() -> None:
    async with served(load("http_echo").Predictor) as (client, _):
        body = (await client.get("/")).json()
    assert body["predictions_url"] == "/predictions"
    assert body["predictions_cancel_url"] == "/predictions/{prediction_id}/cancel"
    assert "trainings_url" not in body


async def test_root_lists_training_urls_with_a_train_target() -> None:
    trainer = load("http_trainer").Predictor
    async with served(trainer, train=trainer) as (client, _):
        body = (await client.get("/")).json()
    assert body["trainings_idempotent_url"] == "/trainings/{training_id}"


async def test_health_check_and_openapi_when_ready() -> None:
    async with served(load("http_echo").Predictor) as (client, _):
        health = await client.get("/health-check")
        schema = await client.get("/openapi.json")
    assert health.status_code == 200
    assert health.json()["status"] == "READY"
    assert schema.status_code == 200
    assert "Input" in schema.json()["components"]["schemas"]


async def test_starting_answers_503_for_predictions_and_schema() -> None:
    module = load("http_setup_gate")
    try:
        async with served(module.Predictor, wait_ready=False) as (client, _):
            health = await client.get("/health-check")
            schema = await client.get("/openapi.json")
            prediction = await client.post("/predictions", json={})
            module.RELEASE.set()
    finally:
        module.RELEASE.set()
    assert (health.status_code, health.json()["status"]) == (200, "STARTING")
    assert (schema.status_code, schema.content) == (
        503,
        b'{"error":"OpenAPI schema not available"}',
    )
    assert (prediction.status_code, prediction.content) == (503, NOT_READY)


async def test_setup_failure_keeps_health_200_and_refuses_predictions() -> None:
    async with served(load("http_setup_fails").Predictor, wait_ready=False) as (client, app):
        assert await app.state.runtime.wait_setup(30) == "SETUP_FAILED"
        health = await client.get("/health-check")
        prediction = await client.post("/predictions", json={})
    assert health.status_code == 200
    assert "boom in setup" in health.json()["setup"]["logs"]
    assert (prediction.status_code, prediction.content) == (503, SETUP_FAILED)


async def test_a_setup_that_timed_out_says_setup_failed() -> None:
    module = load("http_setup_gate")
    settings = Settings(setup_timeout=0.2)
    try:
        async with served(module.Predictor, wait_ready=False, settings=settings) as (client, app):
            assert await app.state.runtime.wait_setup(30) == "SETUP_FAILED"
            health = await client.get("/health-check")
            prediction = await client.post("/predictions", json={})
            training = await client.post("/trainings", json={})
            module.RELEASE.set()  # lets the worker thread stop when the app closes
    finally:
        module.RELEASE.set()
    assert health.json()["status"] == "SETUP_FAILED"
    assert "timed out" in health.json()["setup"]["logs"]
    assert (prediction.status_code, prediction.content) == (503, SETUP_FAILED)
    assert (training.status_code, training.content) == (503, SETUP_FAILED)


async def test_sync_prediction_is_compact_json() -> None:
    async with served(load("http_echo").Predictor) as (client, _):
        response = await client.post("/predictions", json={"input": {"text": "yo"}})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert b'"status":"succeeded"' in response.content
    assert b'"output":"yo"' in response.content
    assert b'": ' not in response.content


async def test_body_is_json_whatever_the_content_type_and_empty_means_defaults() -> None:
    async with served(load("http_echo").Predictor) as (client, _):
        plain = await client.post(
            "/predictions",
            content=b'{"input":{"text":"t"}}',
            headers={"content-type": "text/plain"},
        )
        empty = await client.post("/predictions", content=b"")
    assert plain.json()["output"] == "t"
    assert empty.json()["output"] == "hi"


@pytest.mark.parametrize("prefer", ["respond-async", "wait=5, Respond-Async", "respond-async;x=1"])
async def test_prefer_respond_async_answers_202_starting(prefer: str) -> None:
    async with served(load("http_echo").Predictor) as (client, app):
        response = await client.post(
            "/predictions", json={"id": "a1", "input": {}}, headers={"prefer": prefer}
        )
        assert response.status_code == 202
        assert response.json()["status"] == "starting"
        running = app.state.runtime.get("a1")
        if running is not None:
            await asyncio.wait_for(running.wait(), 10)


async def test_prefer_without_the_exact_token_is_sync() -> None:
    async with served(load("http_echo").Predictor) as (client, _):
        response = await client.post("/predictions", json={}, headers={"prefer": "respond-asyncx"})
    assert (response.status_code, response.json()["status"]) == (200, "succeeded")


async def test_put_mismatched_id_is_422_with_cogs_body() -> None:
    async with served(load("http_echo").Predictor) as (client, _):
        response = await client.put("/predictions/p1", json={"id": "p2"})
    assert response.status_code == 422
    assert response.content == (
        b'{"detail":[{"loc":["body","id"],"msg":"prediction ID must match the ID supplied'
        b' in the URL","type":"value_error"}]}'
    )


async def test_put_runs_under_the_path_id() -> None:
    async with served(load("http_echo").Predictor) as (client, _):
        response = await client.put("/predictions/p1", json={"input": {"text": "put"}})
    assert response.json()["id"] == "p1"
    assert response.json()["output"] == "put"


async def test_in_flight_id_gets_202_snapshot_409_and_cancel() -> None:
    module = load("http_gate")
    async with served(module.Predictor) as (client, app):
        first = asyncio.ensure_future(client.put("/predictions/g1", json={"input": {"text": "a"}}))
        assert await asyncio.to_thread(module.STARTED.wait, 10)
        again = await client.put("/predictions/g1", json={"input": {"text": "ignored"}})
        repost = await client.post("/predictions", json={"id": "g1"})
        busy = await client.post("/predictions", json={"input": {}})
        canceled = await client.post("/predictions/g1/cancel")
        module.RELEASE.set()
        response = await asyncio.wait_for(first, 10)
        repeat = await client.post("/predictions/g1/cancel")
        health = await client.get("/health-check")
    assert (again.status_code, again.json()["status"]) == (202, "processing")
    assert again.json()["input"] == {"text": "a"}
    assert repost.status_code == 202
    assert (busy.status_code, busy.content) == (409, AT_CAPACITY)
    assert (canceled.status_code, canceled.content) == (200, b"{}")
    assert response.json()["status"] == "canceled"
    # a repeat after the canceled prediction stopped is answered as the first: a client's
    # retry is no failure (Cog's test cancel_repeated.txtar sends three)
    assert (repeat.status_code, repeat.content) == (200, b"{}")
    assert health.json()["status"] == "READY"


async def test_cancel_of_a_prediction_that_ended_uncanceled_is_404() -> None:
    async with served(load("http_echo").Predictor) as (client, _):
        done = await client.put("/predictions/e1", json={"input": {"text": "x"}})
        cancel = await client.post("/predictions/e1/cancel")
    assert done.json()["status"] == "succeeded"
    assert (cancel.status_code, cancel.content) == (404, b"{}")


async def test_invalid_input_is_422_and_malformed_json_400() -> None:
    async with served(load("http_echo").Predictor) as (client, _):
        invalid = await client.post("/predictions", json={"input": {"text": 5}})
        malformed = await client.post("/predictions", content=b"{nope")
        put_malformed = await client.put("/predictions/x", content=b"{nope")
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "input", "text"]
    assert malformed.status_code == 400
    assert "Failed to parse the request body as JSON" in malformed.json()["error"]
    assert put_malformed.status_code == 400


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",  # curl -d
        "text/plain; charset=utf-8",
        "application/octet-stream",
        "multipart/form-data; boundary=x",
    ],
)
async def test_json_body_is_accepted_under_any_declared_type(content_type: str) -> None:
    async with served(load("http_echo").Predictor) as (client, _):
        post = await client.post(
            "/predictions",
            content=b'{"input":{"text":"t"}}',
            headers={"content-type": content_type},
        )
        put = await client.put(
            "/predictions/p1",
            content=b'{"input":{"text":"u"}}',
            headers={"content-type": content_type},
        )
    assert (post.status_code, post.json()["output"]) == (200, "t")
    assert (put.status_code, put.json()["output"]) == (200, "u")


@pytest.mark.parametrize(
    ("content_type", "declared"),
    [
        ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"),
        ("Text/Plain; charset=utf-8", "text/plain"),
        ("multipart/form-data; boundary=x", "multipart/form-data"),
    ],
)
async def test_non_json_body_under_a_non_json_type_is_415(content_type: str, declared: str) -> None:
    expected = (
        b'{"error":"Unsupported Media Type: expected application/json, got '
        + declared.encode()
        + b'","status":"failed"}'
    )
    async with served(load("http_echo").Predictor) as (client, _):
        headers = {"content-type": content_type}
        post = await client.post("/predictions", content=b"input=x", headers=headers)
        put = await client.put("/predictions/p2", content=b"input=x", headers=headers)
        health = (await client.get("/health-check")).json()["status"]
    for response in (post, put):
        assert response.status_code == 415
        assert response.headers["content-type"] == "application/json"
        assert response.content == expected
    assert health == "READY"  # nothing was started


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json", "application/json; charset=utf-8", "application/vnd.api+json"],
)
async def test_non_json_body_under_a_json_or_no_type_is_400(content_type: str | None) -> None:
    async with served(load("http_echo").Predictor) as (client, _):
        request = client.build_request("POST", "/predictions", content=b"input=x")
        request.headers.pop("content-type", None)
        if content_type is not None:
            request.headers["content-type"] = content_type
        assert request.headers.get("content-type") == content_type
        response = await client.send(request)
    assert response.status_code == 400
    assert "Failed to parse the request body as JSON" in response.json()["error"]


async def test_bodies_over_the_limit_are_413_declared_or_streamed() -> None:
    async def chunks():
        for _ in range(4):
            yield b" " * 512

    async with served(load("http_echo").Predictor, max_body_size=1024) as (client, _):
        declared = await client.post("/predictions", content=b" " * 2048)
        streamed = await client.post("/predictions", content=chunks())
        fits = await client.post("/predictions", content=b'{"input":{}}' + b" " * 1000)
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert fits.status_code == 200


async def test_sse_without_opt_in_is_406_and_with_opt_in_is_an_event_stream() -> None:
    sse = {"accept": "application/json, text/event-stream;q=0.5"}
    async with served(load("http_echo").Predictor) as (client, _):
        refused = await client.post("/predictions", json={}, headers=sse)
    async with served(load("http_streaming").Predictor) as (client, _):
        streamed = await client.post("/predictions", json={"input": {"n": 2}}, headers=sse)
    assert (refused.status_code, refused.content) == (406, NO_SSE)
    assert streamed.status_code == 200
    assert streamed.headers["content-type"] == "text/event-stream"
    assert b'event: output\ndata: {"chunk":"chunk-1","index":1}\n\n' in streamed.content


async def test_trainings_404_without_target_and_406_for_sse() -> None:
    async with served(load("http_echo").Predictor) as (client, _):
        missing = await client.post("/trainings", json={})
        sse = await client.post("/trainings", json={}, headers={"accept": "text/event-stream"})
    assert (missing.status_code, missing.content) == (404, b"{}")
    assert sse.status_code == 406
    assert sse.content == b'{"error":"Training endpoints do not support streaming responses."}'


async def test_trainings_call_the_train_target() -> None:
    trainer = load("http_trainer").Predictor
    async with served(trainer, train=trainer) as (client, _):
        trained = await client.post("/trainings", json={"input": {"steps": 3}})
        put = await client.put("/trainings/t1", json={"input": {"steps": 2}})
        mismatch = await client.put("/trainings/t1", json={"id": "t2"})
        predicted = await client.post("/predictions", json={})
    assert trained.json()["output"] == "trained 3"
    assert (put.json()["id"], put.json()["output"]) == ("t1", "trained 2")
    assert (
        mismatch.json()["detail"][0]["msg"] == "training ID must match the ID supplied in the URL"
    )
    assert predicted.json()["output"] == "predicted p"


async def test_shutdown_calls_back_once_and_refuses_new_predictions() -> None:
    calls: list[str] = []
    async with served(load("http_echo").Predictor, on_shutdown=lambda: calls.append("x")) as (
        client,
        _,
    ):
        first = await client.post("/shutdown")
        second = await client.post("/shutdown")
        refused = await client.post("/predictions", json={})
    assert (first.status_code, first.content, second.status_code) == (200, b"{}", 200)
    assert calls == ["x"]
    assert refused.status_code == 503
    assert msgspec.json.decode(refused.content)["status"] == "failed"


async def test_unknown_path_404_and_wrong_method_405_are_json() -> None:
    async with served(load("http_echo").Predictor) as (client, _):
        unknown = await client.get("/nope")
        method = await client.get("/predictions")
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Not Found"})
    assert method.status_code == 405
    assert method.headers["content-type"] == "application/json"
