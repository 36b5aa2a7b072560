"""Server-sent events in process (spec §14): events, replay, truncation, lag, disconnect."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.applications import Starlette

from cogrt.config import Settings
from cogrt.http import sse
from cogrt.http.sse import EventLog
from cogrt.runner.prediction import Prediction
from tests.support.harness import served
from tests.support.predictors import HTTP
from tests.support.sse_client import SSE, AsgiCall, names, parse
from tests.support.waiting import until

load = HTTP.load

NO_SSE = (
    b'{"error":"This model does not support streaming responses. '
    b'Add @cog.streaming to predict() to enable SSE."}'
)
LIVE_BUFFER_PLUS_ONE = sse.LIVE_BUFFER + 1
TRUNCATED = (
    b"event: error\n"
    b'data: {"error":"SSE stream replay truncated; events were dropped","skipped":3}\n\n'
)


def outputs(events: list[tuple[str, Any]]) -> list[tuple[int, Any]]:
    return [(data["index"], data["chunk"]) for name, data in events if name == "output"]


def settings(capacity: int) -> Settings:
    return Settings(stream_history_capacity=capacity)


def subscribers(app: Starlette, prediction_id: str) -> int:
    """Current SSE subscribers of an in-flight prediction (-1 before it is tracked)."""
    log = app.state.streams.get(prediction_id)
    return -1 if log is None else int(log.subscribers)


async def test_1000_tokens_arrive_in_order_then_completed_then_close() -> None:
    async with served(load("sse_tokens").Predictor) as (client, _):
        response = await client.post("/predictions", json={"id": "t1000"}, headers=SSE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache"
    events = parse(response.content)
    assert names(events) == ["start"] + ["output"] * 1000 + ["completed"]
    assert events[0][1] == {"id": "t1000", "status": "processing"}
    assert outputs(events) == [(i, f"tok-{i}") for i in range(1000)]
    completed = events[-1][1]
    assert completed["status"] == "succeeded"
    assert completed["output"] == [f"tok-{i}" for i in range(1000)]
    assert response.content.endswith(b"\n\n")


async def test_time_to_first_token_and_total_in_process() -> None:
    """Measured, printed, not asserted: run with ``-s`` to see the figures.

    ``burst`` yields 1000 tokens back to back without releasing the GIL, so
    the loop sees them in a few batches; ``paced`` sleeps ~0.1 ms per token,
    as a model releasing the GIL does, and each token gets its own ``send``.
    """
    cases = [
        ("burst", "sse_tokens", b'{"input":{"n":1000}}'),
        (
            "paced",
            "sse_sleep_after",
            b'{"input":{"count":1000,"sleep_after":0,"sleep_between":0.0001}}',
        ),
    ]
    for label, predictor, body in cases:
        async with served(load(predictor).Predictor) as (_, app):
            for round_ in range(3):
                call = AsgiCall(app, "POST", "/predictions", body, SSE)
                await call.finish()
                first = call.first_time(b'"index":0}')
                total = call.first_time(b"event: completed")
                assert call.closed and first is not None and total is not None
                assert len(outputs(parse(call.body))) == 1000
                sends = sum(1 for _, m in call.sent if m["type"] == "http.response.body")
                print(
                    f"\nSSE in-process {label} round {round_}: first token {first * 1e3:.2f} ms, "
                    f"1000 tokens + completed {total * 1e3:.2f} ms, {sends} body sends"
                )


async def test_log_and_metric_events_have_the_spec_shapes() -> None:
    async with served(load("sse_logs_metrics").Predictor) as (client, _):
        response = await client.post("/predictions", json={}, headers=SSE)
    events = parse(response.content)
    assert [e for e in events if e[0] in ("log", "metric")] == [
        ("log", {"source": "stdout", "data": "log line\n"}),
        ("log", {"source": "stderr", "data": "to stderr\n"}),
        ("metric", {"name": "m", "value": 1, "mode": "replace"}),
        ("metric", {"name": "count", "value": 2, "mode": "increment"}),
        ("metric", {"name": "seen", "value": ["a"], "mode": "append"}),
        ("metric", {"name": "gone", "value": 1, "mode": "replace"}),
        ("metric", {"name": "gone", "value": None, "mode": "replace"}),
    ]
    assert names(events)[0] == "start" and names(events)[-2:] == ["output", "completed"]
    completed = events[-1][1]
    assert completed["logs"] == "log line\nto stderr\n"
    assert {k: v for k, v in completed["metrics"].items() if k != "predict_time"} == {
        "m": 1,
        "count": 2,
        "seen": ["a"],
    }
    assert b'data: {"source":"stdout","data":"log line\\n"}\n' in response.content  # compact


async def test_406_without_opt_in_for_post_put_attach_and_trainings() -> None:
    gate = load("http_gate")
    trainer = load("http_trainer").Predictor
    try:
        async with served(gate.Predictor, train=trainer) as (client, _):
            post = await client.post("/predictions", json={}, headers=SSE)
            running = await client.put(
                "/predictions/g1", json={}, headers={"prefer": "respond-async"}
            )
            attach = await client.put("/predictions/g1", json={}, headers=SSE)
            training = await client.post("/trainings", json={}, headers=SSE)
            training_put = await client.put("/trainings/t1", json={}, headers=SSE)
            gate.RELEASE.set()
    finally:
        gate.RELEASE.set()
    assert (post.status_code, post.content) == (406, NO_SSE)
    assert running.status_code == 202
    assert (attach.status_code, attach.content) == (406, NO_SSE)
    for refused in (training, training_put):
        assert refused.status_code == 406
        assert (
            refused.content == b'{"error":"Training endpoints do not support streaming responses."}'
        )


async def test_reattach_replays_history_then_live_rest_without_gaps_or_duplicates() -> None:
    module = load("sse_gate")
    try:
        async with served(module.Predictor) as (client, app):
            runtime = app.state.runtime
            body = {"id": "r1", "input": {"before": 3, "after": 4}}
            created = await client.put(
                "/predictions/r1", json=body, headers={"prefer": "respond-async"}
            )
            assert (created.status_code, created.json()["status"]) == (202, "starting")
            await until(lambda: len(runtime.get("r1").output() or []) == 3)
            late = asyncio.ensure_future(client.put("/predictions/r1", json=body, headers=SSE))
            # A POST naming the in-flight id attaches too (spec §11.2), no second run.
            again = asyncio.ensure_future(client.post("/predictions", json=body, headers=SSE))
            await until(lambda: subscribers(app, "r1") == 2)
            module.RELEASE.set()
            responses = await asyncio.wait_for(asyncio.gather(late, again), 10)
    finally:
        module.RELEASE.set()
    for response in responses:
        assert response.status_code == 200
        events = parse(response.content)
        assert names(events) == ["start"] + ["output"] * 7 + ["completed"]
        assert outputs(events) == [(i, f"chunk-{i}") for i in range(7)]
        assert events[-1][1]["output"] == [f"chunk-{i}" for i in range(7)]
    assert responses[0].content == responses[1].content


async def test_truncated_replay_is_one_error_event_and_an_immediate_close() -> None:
    module = load("sse_gate")
    try:
        async with served(module.Predictor, settings=settings(2)) as (client, app):
            runtime = app.state.runtime
            body = {"input": {"before": 4, "after": 1}}
            await client.put("/predictions/tr", json=body, headers={"prefer": "respond-async"})
            await until(lambda: len(runtime.get("tr").output() or []) == 4)
            # start + 4 outputs recorded, 2 kept: 3 evicted. The answer comes back
            # while the prediction is still paused, so the stream closed at once.
            attach = await asyncio.wait_for(
                client.put("/predictions/tr", json=body, headers=SSE), 5
            )
            assert runtime.get("tr").status == "processing"
            module.RELEASE.set()
            await asyncio.wait_for(runtime.get("tr").wait(), 10)
    finally:
        module.RELEASE.set()
    assert attach.status_code == 200
    assert attach.content == TRUNCATED


async def test_capacity_zero_attach_gets_live_events_only_and_no_error() -> None:
    module = load("sse_gate")
    try:
        async with served(module.Predictor, settings=settings(0)) as (client, app):
            runtime = app.state.runtime
            body = {"input": {"before": 3, "after": 2}}
            await client.put("/predictions/z", json=body, headers={"prefer": "respond-async"})
            await until(lambda: len(runtime.get("z").output() or []) == 3)
            attach = asyncio.ensure_future(client.put("/predictions/z", json=body, headers=SSE))
            await until(lambda: subscribers(app, "z") == 1)
            module.RELEASE.set()
            response = await asyncio.wait_for(attach, 10)
    finally:
        module.RELEASE.set()
    events = parse(response.content)
    assert names(events) == ["output", "output", "completed"]
    assert outputs(events) == [(3, "chunk-3"), (4, "chunk-4")]
    assert events[-1][1]["status"] == "succeeded"
    assert b"truncated" not in response.content


async def test_history_keeps_only_capacity_frames_while_running() -> None:
    module = load("sse_gate")
    try:
        async with served(module.Predictor, settings=settings(5)) as (client, app):
            runtime = app.state.runtime
            await client.put(
                "/predictions/h",
                json={"input": {"before": 50, "after": 0}},
                headers={"prefer": "respond-async"},
            )
            await until(lambda: len(runtime.get("h").output() or []) == 50)
            log = app.state.streams.get("h")
            assert len(log._history) == 5
            module.RELEASE.set()
            await asyncio.wait_for(runtime.get("h").wait(), 10)
            assert app.state.streams.get("h") is None  # forgotten once completed
    finally:
        module.RELEASE.set()


@pytest.mark.parametrize("how", ["client disconnects", "server cancels the handler"])
async def test_sse_created_prediction_is_canceled_when_its_client_leaves(how: str) -> None:
    module = load("sse_async_gate")
    async with served(module.Predictor) as (_, app):
        runtime = app.state.runtime
        call = AsgiCall(app, "PUT", "/predictions/d1", b"{}", SSE)
        await until(lambda: call.first_time(b'"chunk":"chunk-0"') is not None)
        prediction = runtime.get("d1")
        if how == "client disconnects":
            call.leave()
            await call.finish()
        else:
            call.task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call.task
        await asyncio.wait_for(prediction.wait(), 10)
        assert prediction.status == "canceled"
        assert module.CANCELED.is_set()
        assert runtime.status == "READY" and runtime.get("d1") is None


async def test_async_created_prediction_outlives_its_sse_subscribers() -> None:
    module = load("sse_async_gate")
    async with served(module.Predictor) as (client, app):
        runtime = app.state.runtime
        await client.put("/predictions/a1", json={}, headers={"prefer": "respond-async"})
        first = AsgiCall(app, "PUT", "/predictions/a1", b"{}", SSE)
        second = AsgiCall(app, "PUT", "/predictions/a1", b"{}", SSE)
        await until(lambda: subscribers(app, "a1") == 2)
        await until(lambda: second.first_time(b'"chunk":"chunk-0"') is not None)
        first.leave()
        second.leave()
        await first.finish()
        await second.finish()
        assert subscribers(app, "a1") == 0
        assert runtime.get("a1").status == "processing"
        prediction = runtime.get("a1")
        assert (await client.post("/predictions/a1/cancel")).status_code == 200
        await asyncio.wait_for(prediction.wait(), 10)
    assert prediction.status == "canceled"


LAGGED = "SSE stream lagged; events were dropped"


@pytest.mark.parametrize("stall", [False, True], ids=["reading", "writer stalled for 2 batches"])
async def test_a_5000_token_burst_reaches_a_reading_client_whole(stall: bool) -> None:
    """The worker hands chunks over in batches of up to 1024; when two batches
    land before the writer gets a turn, the client is still keeping up and must
    not be cut off as lagged (nor the prediction canceled)."""
    async with served(load("sse_tokens").Predictor) as (_, app):
        runtime = app.state.runtime
        for round_ in range(3):
            pid = f"burst-{round_}"
            call = AsgiCall(app, "PUT", f"/predictions/{pid}", b'{"input":{"n":5000}}', SSE)
            if stall:
                call.hold()  # not even the response start goes out yet
                await until(lambda: runtime.get(pid) is not None)  # noqa: B023
                prediction = runtime.get(pid)
                streamed = lambda: len(prediction.output() or ())  # noqa: B023, E731
                await until(lambda: prediction.done or streamed() > 2 * 1024 + 1)  # noqa: B023
                call.resume()
            await call.finish()
            events = parse(call.body)
            assert names(events) == ["start"] + ["output"] * 5000 + ["completed"]
            assert outputs(events) == [(i, f"tok-{i}") for i in range(5000)]
            completed = events[-1][1]
            assert completed["status"] == "succeeded"
            assert completed["output"] == [f"tok-{i}" for i in range(5000)]
            assert call.closed


async def test_lag_needs_both_the_frame_count_and_the_byte_budget() -> None:
    """Small frames: 5000 waiting is fine; the cut-off comes only once the
    waiting frames would pass ``LIVE_BYTES``, so memory stays bounded."""
    prediction = Prediction("p", {}, created_by="sse", loop=asyncio.get_running_loop())
    subscriber = EventLog(prediction, capacity=0).subscribe()
    assert subscriber is not None
    for i in range(5000):
        prediction.add_chunk(f"tok-{i}")
    chunk, last = subscriber.take()
    assert not last
    assert outputs(parse(chunk)) == [(i, f"tok-{i}") for i in range(5000)]
    assert not prediction.cancel_requested

    waiting: list[int] = []
    pushed = 0
    while not prediction.cancel_requested:
        assert pushed < 1_000_000, "never cut off"
        prediction.add_chunk("x" * 60)
        pushed += 1
        waiting.append(subscriber.waiting_bytes)
    assert max(waiting) <= sse.LIVE_BYTES
    assert subscriber.waiting_bytes == 0  # the queue is dropped at the cut-off
    # The frames that were waiting plus the one that did not fit, all small:
    # far more than LIVE_BUFFER of them before the byte budget ran out.
    assert pushed > 20 * sse.LIVE_BUFFER
    for _ in range(10):
        prediction.add_chunk("after the cut-off")  # detached: no longer queued or counted
    chunk, last = subscriber.take()
    assert last
    assert parse(chunk) == [("error", {"error": LAGGED, "skipped": pushed})]


async def test_a_client_that_stops_reading_is_cut_off_and_its_prediction_canceled() -> None:
    """SSE-created, the only subscriber never reads: cut off at 1024 waiting frames
    of ~16 KiB (past 8 MiB), which cancels the prediction (spec §14.4 counts the
    subscriber as gone) without waiting for the client to read again."""
    module = load("sse_big_tokens")
    module.RELEASE.set()
    async with served(module.Predictor) as (_, app):
        runtime = app.state.runtime
        call = AsgiCall(app, "PUT", "/predictions/stuck", b'{"input":{"n":3000}}', SSE)
        call.hold()  # the client reads nothing, not even the response start
        await until(lambda: runtime.get("stuck") is not None)
        prediction = runtime.get("stuck")
        await asyncio.wait_for(prediction.wait(), 10)
        assert prediction.status == "canceled"
        assert len(prediction.output()) < 3000
        assert runtime.status == "READY"
        call.resume()
        await call.finish()
    # start + 1023 outputs waited (16 MiB > LIVE_BYTES); the next frame cut it off.
    assert parse(call.body) == [("error", {"error": LAGGED, "skipped": LIVE_BUFFER_PLUS_ONE})]
    assert call.closed


async def test_a_lagged_subscriber_of_an_async_prediction_blocks_nothing() -> None:
    module = load("sse_big_tokens")
    try:
        async with served(module.Predictor) as (client, app):
            runtime = app.state.runtime
            body = {"input": {"n": 3000}}
            created = await client.put(
                "/predictions/slow", json=body, headers={"prefer": "respond-async"}
            )
            assert created.status_code == 202
            call = AsgiCall(app, "PUT", "/predictions/slow", b"{}", SSE)
            await until(lambda: call.first_time(b"event: start") is not None)
            call.hold()  # from here on the client reads nothing
            module.RELEASE.set()
            prediction = runtime.get("slow")
            await asyncio.wait_for(prediction.wait(), 10)  # ran to the end regardless
            assert prediction.status == "succeeded"
            assert subscribers(app, "slow") == -1  # completed and forgotten
            call.resume()
            await call.finish()
    finally:
        module.RELEASE.set()
    events = parse(call.body)
    assert events[-1] == ("error", {"error": LAGGED, "skipped": LIVE_BUFFER_PLUS_ONE})
    delivered = outputs(events[:-1])
    assert [index for index, _ in delivered] == list(range(len(delivered)))
    assert call.closed


async def test_too_many_subscribers_is_429(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sse, "MAX_SUBSCRIBERS", 2)
    module = load("sse_gate")
    try:
        async with served(module.Predictor) as (client, app):
            created = AsgiCall(app, "PUT", "/predictions/m", b'{"input":{"after":0}}', SSE)
            await until(lambda: subscribers(app, "m") == 1)
            attached = AsgiCall(app, "PUT", "/predictions/m", b"{}", SSE)
            await until(lambda: subscribers(app, "m") == 2)
            refused = await client.put("/predictions/m", json={}, headers=SSE)
            module.RELEASE.set()
            await created.finish()
            await attached.finish()
    finally:
        module.RELEASE.set()
    assert (refused.status_code, refused.content) == (
        429,
        b'{"error":"Too many stream subscribers"}',
    )
    assert names(parse(created.body))[-1] == names(parse(attached.body))[-1] == "completed"


async def test_silence_sends_keep_alive_comments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sse, "KEEPALIVE_INTERVAL", 0.02)
    module = load("sse_gate")
    try:
        async with served(module.Predictor) as (_, app):
            call = AsgiCall(app, "POST", "/predictions", b'{"input":{"before":1,"after":1}}', SSE)
            await until(lambda: call.first_time(b":keep-alive\n\n") is not None)
            module.RELEASE.set()
            await call.finish()
    finally:
        module.RELEASE.set()
    events = parse(call.body)
    assert (":", "keep-alive") in events
    real = [e for e in events if e[0] != ":"]
    assert names(real) == ["start", "output", "output", "completed"]
