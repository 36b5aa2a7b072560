"""An iterator that yields nothing answers ``"output": []`` everywhere a client looks."""

from __future__ import annotations

import pytest

from tests.support.harness import served
from tests.support.predictors import HTTP
from tests.support.sse_client import SSE, parse
from tests.support.webhook_receiver import Receiver

load = HTTP.load

KINDS = ["SyncPredictor", "AsyncPredictor"]


@pytest.mark.parametrize("kind", KINDS)
async def test_sync_response_and_terminal_webhook_carry_an_empty_list(kind: str) -> None:
    predictor = getattr(load("empty_stream"), kind)
    async with Receiver() as receiver, served(predictor) as (client, _):
        body = {"id": "e1", "input": {}, "webhook": receiver.url}
        response = await client.post("/predictions", json=body)
        await receiver.wait_for(lambda hooks: any(hook.terminal for hook in hooks))
    assert response.status_code == 200
    assert response.json()["status"] == "succeeded"
    assert response.json()["output"] == []
    [terminal] = receiver.terminal()
    assert terminal.payload["status"] == "succeeded"
    assert terminal.payload["output"] == []


@pytest.mark.parametrize("kind", KINDS)
async def test_async_prediction_webhook_carries_an_empty_list(kind: str) -> None:
    predictor = getattr(load("empty_stream"), kind)
    async with Receiver() as receiver, served(predictor) as (client, _):
        body = {"id": "e2", "input": {}, "webhook": receiver.url}
        response = await client.post("/predictions", json=body, headers={"prefer": "respond-async"})
        await receiver.wait_for(lambda hooks: any(hook.terminal for hook in hooks))
    assert response.status_code == 202
    [terminal] = receiver.terminal()
    assert terminal.payload["output"] == []


@pytest.mark.parametrize("kind", KINDS)
async def test_sse_completed_event_and_its_webhook_carry_an_empty_list(kind: str) -> None:
    predictor = getattr(load("empty_stream"), kind)
    async with Receiver() as receiver, served(predictor) as (client, _):
        body = {"id": "e3", "input": {}, "webhook": receiver.url}
        response = await client.post("/predictions", json=body, headers=SSE)
        await receiver.wait_for(lambda hooks: any(hook.terminal for hook in hooks))
    name, data = parse(response.content)[-1]
    assert name == "completed"
    assert (data["status"], data["output"]) == ("succeeded", [])
    assert receiver.terminal()[0].payload["output"] == []
