"""Trainings end to end (spec §21): both modes, schema, lazy trainer setup, endpoints."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.data_uris import decode_data_uri
from tests.support.harness import served
from tests.support.predictors import HTTP
from tests.support.server_process import running
from tests.support.sse_client import SSE
from tests.support.waiting import until

load = HTTP.load

ASYNC = {"prefer": "respond-async"}
TRAINING_406 = b'{"error":"Training endpoints do not support streaming responses."}'


async def test_train_mode_serves_trainings_and_predictions_with_train() -> None:
    async with served(load("train_function").train, mode="train") as (client, _):
        root = (await client.get("/")).json()
        schema = (await client.get("/openapi.json")).json()
        trained = await client.post("/trainings", json={"input": {"n": 3}})
        predicted = await client.post("/predictions", json={"input": {"n": 2}})
        invalid = await client.post("/trainings", json={"input": {"n": 0}})
    assert root["trainings_url"] == "/trainings"
    assert root["trainings_cancel_url"] == "/trainings/{training_id}/cancel"
    assert schema["paths"]["/trainings"]["post"]["operationId"] == "train_trainings_post"
    assert "/predictions" not in schema["paths"]
    assert {"TrainingInput", "TrainingOutput", "TrainingRequest"} <= set(
        schema["components"]["schemas"]
    )
    body = trained.json()
    assert (trained.status_code, body["status"]) == (200, "succeeded")
    assert body["input"] == {"n": 3}
    assert body["output"]["epochs"] == 3
    assert decode_data_uri(body["output"]["weights"])[1].decode() == "hello train world 3"
    assert body["logs"] == "training for 3 epochs\n"
    assert "predict_time" in body["metrics"]
    # /predictions invokes train too in train mode (Cog behaviour, §21.2).
    assert predicted.json()["output"]["epochs"] == 2
    assert invalid.status_code == 422
    assert invalid.json()["detail"][0]["loc"] == ["body", "input", "n"]


def test_x_mode_train_on_a_real_server() -> None:
    with (
        running("train_function.py:train", "--x-mode", "train") as server,
        httpx.Client(timeout=10) as client,
    ):
        trained = client.post(f"{server.url}/trainings", json={"input": {"n": 42}})
        put = client.put(f"{server.url}/trainings/t42", json={"input": {"n": 1}})
        sse = client.post(f"{server.url}/trainings", json={"input": {"n": 1}}, headers=SSE)
    assert trained.status_code == 200
    assert b'"status":"succeeded"' in trained.content
    assert (
        decode_data_uri(trained.json()["output"]["weights"])[1].decode() == "hello train world 42"
    )
    assert (put.json()["id"], put.json()["output"]["epochs"]) == ("t42", 1)
    assert (sse.status_code, sse.content) == (406, TRAINING_406)


async def test_combined_document_validates_trainings_against_training_input() -> None:
    trainer = load("http_trainer").Predictor
    async with served(trainer, train=trainer) as (client, _):
        schema = (await client.get("/openapi.json")).json()
        wrong_type = await client.post("/trainings", json={"input": {"steps": "x"}})
        unknown_stripped = await client.post("/trainings", json={"input": {"text": "t"}})
        prediction = await client.post("/predictions", json={"input": {"steps": 5}})
    assert {"/predictions", "/trainings", "/trainings/{training_id}/cancel"} <= set(schema["paths"])
    assert schema["components"]["schemas"]["TrainingInput"]["properties"].keys() == {"steps"}
    assert wrong_type.status_code == 422
    assert wrong_type.json()["detail"][0]["loc"] == ["body", "input", "steps"]
    assert unknown_stripped.json()["input"] == {}  # the prediction-only key is stripped
    assert unknown_stripped.json()["output"] == "trained 1"
    assert prediction.json()["output"] == "predicted p"


async def test_a_separate_trainer_is_set_up_on_its_first_training_only() -> None:
    module = load("train_separate")
    async with served(load("http_echo").Predictor, train=module.Trainer) as (client, _):
        assert module.SETUP_CALLS == []  # start-up did not wait for the trainer
        health = (await client.get("/health-check")).json()
        first = (await client.post("/trainings", json={"input": {"s": "one"}})).json()
        second = (await client.post("/trainings", json={"input": {"s": "two"}})).json()
        prediction = await client.post("/predictions", json={})
    assert health["status"] == "READY"
    assert module.SETUP_CALLS == ["setup"]
    assert (first["status"], first["output"]) == ("succeeded", "hello train one")
    assert first["logs"] == "Trainer is setting up.\n"
    assert (second["output"], second["logs"]) == ("hello train two", "")
    assert prediction.status_code == 200


async def test_trainer_setup_failure_fails_trainings_but_not_health() -> None:
    module = load("train_setup_fails")
    async with served(load("http_echo").Predictor, train=module.Trainer) as (client, _):
        first = (await client.post("/trainings", json={})).json()
        second = (await client.post("/trainings", json={})).json()
        health = (await client.get("/health-check")).json()
        prediction = await client.post("/predictions", json={})
    for failed in (first, second):
        assert failed["status"] == "failed"
        assert failed["error"] == "RuntimeError: no weights here"
        assert "Traceback" in failed["logs"] and "no weights here" in failed["logs"]
        assert failed["output"] is None
    assert first["logs"].startswith("loading weights\n")
    assert module.SETUP_CALLS == ["setup"]  # one setup, its failure remembered
    assert health["status"] == "READY"
    assert prediction.json()["status"] == "succeeded"


async def test_async_training_snapshot_shared_slots_ids_and_cancel() -> None:
    module = load("train_gate")
    try:
        async with served(module.Predictor, train=module.Predictor) as (client, app):
            created = await client.put("/trainings/t1", json={"input": {"steps": 2}}, headers=ASYNC)
            await asyncio.to_thread(module.STARTED.wait, 10)
            again = await client.put("/trainings/t1", json={"input": {"steps": 9}})
            as_prediction = await client.put("/predictions/t1", json={})
            busy = await client.post("/predictions", json={})
            busy_training = await client.post("/trainings", json={})
            health = (await client.get("/health-check")).json()
            prediction = app.state.runtime.get("t1")
            canceled = await client.post("/trainings/t1/cancel")
            await asyncio.wait_for(prediction.wait(), 10)
            repeated = await client.post("/trainings/t1/cancel")
            after = await client.post("/trainings", json={"input": {"steps": 3}}, headers=ASYNC)
            await until(lambda: app.state.runtime.get(after.json()["id"]) is not None)
            module.RELEASE.set()
            done = app.state.runtime.get(after.json()["id"])
            await asyncio.wait_for(done.wait(), 10)
    finally:
        module.RELEASE.set()
    assert (created.status_code, created.json()["status"]) == (202, "starting")
    assert (again.status_code, again.json()["status"]) == (202, "processing")
    assert again.json()["input"] == {"steps": 2}  # the body's input is ignored
    assert (as_prediction.status_code, as_prediction.json()["id"]) == (202, "t1")
    assert busy.status_code == busy_training.status_code == 409
    assert health["status"] == "BUSY"
    assert (canceled.status_code, canceled.content) == (200, b"{}")
    assert prediction.status == "canceled"
    assert (repeated.status_code, repeated.content) == (200, b"{}")  # a repeat is harmless
    assert done.snapshot()["output"] == "trained 3"


async def test_sse_on_trainings_is_refused_before_anything_else() -> None:
    async with served(load("http_echo").Predictor) as (client, _):
        malformed = await client.post("/trainings", content=b"{not json", headers=SSE)
        no_target = await client.put("/trainings/x", json={"id": "other"}, headers=SSE)
    assert (malformed.status_code, malformed.content) == (406, TRAINING_406)
    assert (no_target.status_code, no_target.content) == (406, TRAINING_406)
