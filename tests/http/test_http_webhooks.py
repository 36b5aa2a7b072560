"""What the HTTP layer hands the webhook sender: trace headers, and SSE predictions too."""

from __future__ import annotations

from tests.support.harness import served
from tests.support.predictors import HTTP
from tests.support.sse_client import SSE, names, parse
from tests.support.webhook_receiver import Receiver

load = HTTP.load

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def test_trace_headers_of_the_creating_request_reach_its_webhooks() -> None:
    headers = {"traceparent": TRACEPARENT, "tracestate": "vendor=1", "x-other": "no"}
    async with Receiver() as receiver, served(load("http_echo").Predictor) as (client, _):
        body = {"id": "w1", "input": {}, "webhook": receiver.url}
        response = await client.post("/predictions", json=body, headers=headers)
        await receiver.wait_for(lambda hooks: any(hook.terminal for hook in hooks))
    assert response.json()["status"] == "succeeded"
    terminal = receiver.terminal()[0]
    assert terminal.headers["traceparent"] == TRACEPARENT
    assert terminal.headers["tracestate"] == "vendor=1"
    assert "x-other" not in terminal.headers


async def test_an_sse_prediction_sends_its_webhooks_too() -> None:
    async with Receiver() as receiver, served(load("http_streaming").Predictor) as (client, _):
        body = {"id": "s1", "input": {"n": 2}, "webhook": receiver.url}
        response = await client.post("/predictions", json=body, headers=SSE)
        await receiver.wait_for(lambda hooks: any(hook.terminal for hook in hooks))
    assert names(parse(response.content))[-1] == "completed"
    terminal = receiver.terminal()[0].payload
    assert (terminal["id"], terminal["output"]) == ("s1", ["chunk-0", "chunk-1"])
    assert "traceparent" not in receiver.terminal()[0].headers
