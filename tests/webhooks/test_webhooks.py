"""Webhooks (spec §13) against a real loopback receiver: filter, throttle, order, retries."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cogrt.config import Settings
from cogrt.errors import ConfigError
from cogrt.loader import load_module
from cogrt.runner.prediction import Prediction
from cogrt.runner.runtime import Runtime
from cogrt.webhooks import TERMINAL_RETRIES, retry_delay

from ..runner.helpers import running
from .receiver import Hook, Receiver

PREDICTORS = Path(__file__).parent / "predictors"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def predictor(name: str) -> Any:
    return load_module(PREDICTORS / f"{name}.py").Predictor


def body(url: str, input: dict[str, Any] | None = None, **fields: Any) -> bytes:
    return msgspec.json.encode({"input": input or {}, "webhook": url, **fields})


async def finish(prediction: Prediction, timeout: float = 10) -> None:
    await asyncio.wait_for(prediction.wait(), timeout)


def statuses(hooks: list[Hook]) -> list[str]:
    return [hook.payload["status"] for hook in hooks]


async def test_streamed_tokens_send_few_webhooks_ending_with_the_full_output() -> None:
    settings = Settings(throttle_interval=0.5)
    async with Receiver() as receiver:
        async with running(predictor("tokens"), settings=settings) as runtime:
            request = runtime.decode_request(body(receiver.url, {"n": 1000, "seconds": 1.5}))
            prediction = runtime.start(request)
            await finish(prediction)
            await receiver.wait_for(lambda hooks: any(hook.terminal for hook in hooks))
            await asyncio.sleep(2 * settings.throttle_interval)  # room for a stray late send
        hooks = list(receiver.hooks)
    print(f"\n1000-token stream: {len(hooks)} webhooks, statuses {statuses(hooks)}")
    assert 3 <= len(hooks) <= 10
    assert statuses(hooks)[0] == "processing"
    assert statuses(hooks)[:-1] == ["processing"] * (len(hooks) - 1)
    last = hooks[-1].payload
    assert last["status"] == "succeeded"
    assert last["output"] == [f"t{i}" for i in range(1000)]
    assert isinstance(last["metrics"]["predict_time"], float)
    partial = [hook.payload["output"] for hook in hooks[1:-1]]
    assert any(output and 0 < len(output) < 1000 for output in partial)
    intermediate = [hook.arrived for hook in hooks[:-1]]
    gaps = [later - earlier for earlier, later in zip(intermediate, intermediate[1:])]
    assert all(gap >= 0.45 for gap in gaps), gaps
    for hook in hooks:
        assert hook.method == "POST" and hook.path == "/hook" and hook.status == 200
        assert hook.headers["content-type"] == "application/json"
        assert hook.headers["user-agent"].startswith("cogrt/")
        assert b'": ' not in hook.body and b', "' not in hook.body  # compact JSON


@pytest.mark.parametrize("created_by", ["sync", "async"])
async def test_completed_filter_sends_only_the_terminal_webhook(created_by: Any) -> None:
    async with Receiver() as receiver, running(predictor("echo")) as runtime:
        request = runtime.decode_request(
            body(receiver.url, {"text": "hi"}, id="w1", webhook_events_filter=["completed"])
        )
        await finish(runtime.start(request, created_by=created_by))
        await receiver.wait_for(lambda hooks: len(hooks) >= 1)
    assert len(receiver.hooks) == 1
    payload = receiver.hooks[0].payload
    assert (payload["id"], payload["status"], payload["output"]) == ("w1", "succeeded", "hi")
    assert payload["logs"] == "hello log\n"
    assert payload["error"] is None
    assert payload["input"] == {"text": "hi"}
    assert set(payload) == {
        "id",
        "status",
        "input",
        "output",
        "error",
        "logs",
        "metrics",
        "created_at",
        "started_at",
        "completed_at",
    }


async def test_start_and_completed_filter_skips_output_events() -> None:
    settings = Settings(throttle_interval=0.05)
    async with Receiver() as receiver, running(predictor("tokens"), settings=settings) as rt:
        request = rt.decode_request(
            body(
                receiver.url,
                {"n": 200, "seconds": 0.5},
                webhook_events_filter=["start", "completed"],
            )
        )
        await finish(rt.start(request))
        await receiver.wait_for(lambda hooks: any(hook.terminal for hook in hooks))
    assert statuses(receiver.hooks) == ["processing", "succeeded"]
    assert len(receiver.hooks[1].payload["output"]) == 200


async def test_an_empty_filter_sends_nothing() -> None:
    async with Receiver() as receiver:
        async with running(predictor("echo")) as runtime:
            request = runtime.decode_request(body(receiver.url, webhook_events_filter=[]))
            await finish(runtime.start(request))
        # Leaving the runtime waits for every delivery task, so a webhook would be here by now.
        assert receiver.hooks == []


async def test_logs_events_carry_partial_logs_and_respect_the_filter() -> None:
    settings = Settings(throttle_interval=0.2)
    async with (
        Receiver() as logs_receiver,
        Receiver() as output_receiver,
        running(predictor("chatty"), settings=settings) as runtime,
    ):
        with_logs = runtime.start(
            runtime.decode_request(
                body(logs_receiver.url, webhook_events_filter=["logs", "completed"])
            )
        )
        await finish(with_logs)
        without_logs = runtime.start(
            runtime.decode_request(
                body(output_receiver.url, webhook_events_filter=["output", "completed"])
            )
        )
        await finish(without_logs)
    logged = logs_receiver.hooks
    assert 3 <= len(logged) <= 8  # 40 lines over 1 s, at most one webhook per 0.2 s
    assert statuses(logged)[-1] == "succeeded"
    partial_logs = [hook.payload["logs"] for hook in logged[:-1]]
    assert all(logs.startswith("line 0\n") for logs in partial_logs)
    assert any(len(logs.splitlines()) < 40 for logs in partial_logs)
    assert logged[-1].payload["logs"].count("\n") == 40
    assert statuses(output_receiver.hooks) == ["succeeded"]


async def test_terminal_webhook_is_last_even_when_the_receiver_is_slow() -> None:
    # Each answer takes 0.15 s while new state is ready every 0.01 s: an
    # intermediate send is usually in flight when the prediction ends.
    async with Receiver(delay=0.15) as receiver:
        settings = Settings(throttle_interval=0.01)
        async with running(predictor("tokens"), settings=settings) as runtime:
            for _ in range(3):
                request = runtime.decode_request(body(receiver.url, {"n": 300, "seconds": 0.6}))
                prediction = runtime.start(request)
                await finish(prediction)
                await receiver.wait_for(lambda hooks: bool(hooks) and hooks[-1].terminal)
                hooks = [h for h in receiver.hooks if h.payload["id"] == prediction.id]
                assert len(hooks) >= 3
                assert [hook.terminal for hook in hooks] == [False] * (len(hooks) - 1) + [True]
                assert hooks[-1].payload["output"] == [f"t{i}" for i in range(300)]


async def test_terminal_webhook_waits_for_an_intermediate_one_in_flight() -> None:
    # The start webhook takes 0.8 s to get through, longer than the whole
    # prediction: the terminal one must not overtake it.
    settings = Settings(throttle_interval=0.01)
    async with (
        Receiver(delays=[0.8]) as receiver,
        running(predictor("tokens"), settings=settings) as runtime,
    ):
        request = runtime.decode_request(body(receiver.url, {"n": 300, "seconds": 0.3}))
        prediction = runtime.start(request)
        await finish(prediction)
        assert receiver.hooks == []  # the start webhook is still held
        await receiver.wait_for(lambda hooks: any(hook.terminal for hook in hooks))
    assert statuses(receiver.hooks) == ["processing", "succeeded"]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_terminal_webhook_is_retried_until_delivered(status: int) -> None:
    async with (
        Receiver(statuses=[status, status]) as receiver,
        running(predictor("echo")) as runtime,
    ):
        request = runtime.decode_request(body(receiver.url, webhook_events_filter=["completed"]))
        await finish(runtime.start(request))
        await receiver.wait_for(lambda hooks: len(hooks) >= 3)
    assert [hook.status for hook in receiver.hooks] == [status, status, 200]
    assert statuses(receiver.hooks) == ["succeeded"] * 3
    first, second, third = (hook.arrived for hook in receiver.hooks)
    assert second - first >= 0.18 and third - second >= 0.38  # 0.2 s then 0.4 s


@pytest.mark.parametrize("status", [400, 404, 410, 301])
async def test_other_statuses_are_not_retried(status: int) -> None:
    async with Receiver(statuses=[status]) as receiver, running(predictor("echo")) as runtime:
        request = runtime.decode_request(body(receiver.url, webhook_events_filter=["completed"]))
        await finish(runtime.start(request))
        await receiver.wait_for(lambda hooks: len(hooks) >= 1)
        # The runtime waited for the delivery task to end: a retry would have arrived.
    assert [hook.status for hook in receiver.hooks] == [status]


async def test_intermediate_webhooks_are_not_retried() -> None:
    async with Receiver(statuses=[503]) as receiver, running(predictor("echo")) as runtime:
        request = runtime.decode_request(
            body(receiver.url, webhook_events_filter=["start", "completed"])
        )
        await finish(runtime.start(request))
        await receiver.wait_for(lambda hooks: any(hook.terminal for hook in hooks))
    assert [(hook.payload["status"], hook.status) for hook in receiver.hooks] == [
        ("processing", 503),
        ("succeeded", 200),
    ]


def test_retry_delays_double_from_200_ms_and_stop_growing() -> None:
    delays = [retry_delay(n) for n in range(1, TERMINAL_RETRIES + 1)]
    assert delays[:3] == pytest.approx([0.2, 0.4, 0.8])
    assert delays[9:] == pytest.approx([102.4, 102.4, 102.4])
    assert TERMINAL_RETRIES == 12


async def test_a_receiver_that_never_answers_delays_nothing() -> None:
    settings = Settings(webhook_shutdown_grace=0.3)
    loop = asyncio.get_running_loop()
    async with Receiver(hang=True) as receiver:
        async with running(predictor("echo"), settings=settings) as runtime:
            for text in ("a", "b", "c"):
                request = runtime.decode_request(body(receiver.url, {"text": text}))
                prediction = runtime.start(request)
                await finish(prediction, timeout=2)
                assert prediction.status == "succeeded"
                assert runtime.status == "READY"
            await receiver.wait_for(lambda hooks: len(hooks) >= 3)  # a send is stuck for each
            closing = loop.time()
        assert loop.time() - closing < 2.5  # bounded by the grace, not the 30 s timeout


async def test_a_refused_connection_delays_nothing_and_shutdown_is_bounded() -> None:
    settings = Settings(webhook_shutdown_grace=0.5)
    loop = asyncio.get_running_loop()
    async with running(predictor("echo"), settings=settings) as runtime:
        for _ in range(3):
            request = runtime.decode_request(body("http://127.0.0.1:1/nonexistent"))
            prediction = runtime.start(request)
            await finish(prediction, timeout=2)
            assert prediction.status == "succeeded"
            assert runtime.status == "READY"
        closing = loop.time()
    elapsed = loop.time() - closing
    assert 0.4 <= elapsed < 2.5  # waited for the retrying deliveries, then gave up


async def test_a_closing_runtime_still_delivers_a_terminal_webhook() -> None:
    async with Receiver(statuses=[503]) as receiver:
        async with running(predictor("echo")) as runtime:
            request = runtime.decode_request(
                body(receiver.url, webhook_events_filter=["completed"])
            )
            await finish(runtime.start(request))
        # No waiting on the receiver: leaving the runtime gave the retry its chance.
        assert [hook.status for hook in receiver.hooks] == [503, 200]


async def test_failed_prediction_sends_a_failed_terminal_webhook() -> None:
    async with Receiver() as receiver, running(predictor("fails")) as runtime:
        request = runtime.decode_request(body(receiver.url, webhook_events_filter=["completed"]))
        await finish(runtime.start(request))
        await receiver.wait_for(lambda hooks: len(hooks) >= 1)
    [hook] = receiver.hooks
    payload = hook.payload
    assert payload["status"] == "failed"
    assert payload["error"] == "RuntimeError: prediction went wrong"
    assert payload["logs"].startswith("about to fail\n")
    assert "Traceback" in payload["logs"]
    assert isinstance(payload["metrics"]["predict_time"], float)


async def test_canceled_prediction_sends_a_canceled_terminal_webhook() -> None:
    async with Receiver() as receiver, running(predictor("spin")) as runtime:
        request = runtime.decode_request(
            body(receiver.url, webhook_events_filter=["start", "completed"])
        )
        prediction = runtime.start(request)
        await receiver.wait_for(lambda hooks: len(hooks) >= 1)
        runtime.cancel(prediction.id)
        await finish(prediction)
        await receiver.wait_for(lambda hooks: len(hooks) >= 2)
    assert statuses(receiver.hooks) == ["processing", "canceled"]
    terminal = receiver.hooks[1].payload
    assert terminal["error"] is None
    assert terminal["completed_at"] is not None


async def test_trace_headers_of_the_creating_request_are_passed_through() -> None:
    trace = {"traceparent": TRACEPARENT, "tracestate": "vendor=1", "x-other": "not passed"}
    async with Receiver() as receiver, running(predictor("echo")) as runtime:
        traced = runtime.start(runtime.decode_request(body(receiver.url)), trace_headers=trace)
        await finish(traced)
        await receiver.wait_for(lambda hooks: any(hook.terminal for hook in hooks))
        plain = runtime.start(runtime.decode_request(body(receiver.url)))
        await finish(plain)
        await receiver.wait_for(lambda hooks: len(receiver.terminal()) >= 2)
    by_id: dict[str, list[Hook]] = {}
    for hook in receiver.hooks:
        by_id.setdefault(hook.payload["id"], []).append(hook)
    assert len(by_id[traced.id]) >= 2
    for hook in by_id[traced.id]:
        assert hook.headers["traceparent"] == TRACEPARENT
        assert hook.headers["tracestate"] == "vendor=1"
        assert "x-other" not in hook.headers
    for hook in by_id[plain.id]:
        assert "traceparent" not in hook.headers and "tracestate" not in hook.headers


def verify(key: bytes, hook: Hook) -> bool:
    """Standard Webhooks verification, written from the scheme, not from cogrt's code."""
    message = f"{hook.headers['webhook-id']}.{hook.headers['webhook-timestamp']}."
    expected = hmac.new(key, message.encode() + hook.body, hashlib.sha256).digest()
    scheme, _, signature = hook.headers["webhook-signature"].partition(",")
    return scheme == "v1" and hmac.compare_digest(base64.b64decode(signature), expected)


async def test_signed_webhooks_verify_with_the_shared_secret() -> None:
    key = b"0123456789abcdef0123456789abcdef"
    settings = Settings(webhook_secret="whsec_" + base64.b64encode(key).decode())
    async with (
        Receiver(statuses=[200, 503]) as receiver,
        running(predictor("echo"), settings=settings) as runtime,
    ):
        request = runtime.decode_request(
            body(receiver.url, webhook_events_filter=["start", "completed"])
        )
        await finish(runtime.start(request))
        await receiver.wait_for(lambda hooks: len(hooks) >= 3)
    start, failed_terminal, terminal = receiver.hooks
    assert all(verify(key, hook) for hook in receiver.hooks)
    assert not verify(b"another key", terminal)
    # A retry is the same message: same id, signed again.
    assert failed_terminal.headers["webhook-id"] == terminal.headers["webhook-id"]
    assert start.headers["webhook-id"] != terminal.headers["webhook-id"]
    assert abs(int(terminal.headers["webhook-timestamp"]) - int(time.time())) < 60


async def test_a_plain_secret_is_used_as_the_key_and_unsigned_is_the_default() -> None:
    async with Receiver() as receiver:
        signed = Settings(webhook_secret="plain secret", webhook_auth_token="tok")
        async with running(predictor("echo"), settings=signed) as runtime:
            request = runtime.decode_request(
                body(receiver.url, webhook_events_filter=["completed"])
            )
            await finish(runtime.start(request))
        async with running(predictor("echo")) as runtime:
            await finish(runtime.start(request))
        signed_hook, unsigned_hook = receiver.hooks
    assert verify(b"plain secret", signed_hook)
    assert signed_hook.headers["authorization"] == "Bearer tok"
    assert "webhook-signature" not in unsigned_hook.headers
    assert "authorization" not in unsigned_hook.headers


async def test_a_whsec_secret_that_is_not_base64_fails_at_start() -> None:
    runtime = Runtime(predictor("echo"), settings=Settings(webhook_secret="whsec_not base64!"))
    with pytest.raises(ConfigError, match="COG_WEBHOOK_SECRET"):
        async with runtime:
            pass


async def test_trainings_send_webhooks_like_predictions() -> None:
    trainer = predictor("trainer")
    async with Receiver() as receiver, running(trainer, train=trainer) as runtime:
        request = runtime.decode_request(body(receiver.url, {"steps": 3}, id="t1"), training=True)
        await finish(runtime.start(request, training=True))
        await receiver.wait_for(lambda hooks: any(hook.terminal for hook in hooks))
    assert statuses(receiver.hooks)[0] == "processing"
    terminal = receiver.hooks[-1].payload
    assert (terminal["id"], terminal["status"], terminal["output"]) == (
        "t1",
        "succeeded",
        "trained 3",
    )
    assert terminal["logs"] == "training 3\n"


def test_settings_read_the_webhook_variables() -> None:
    settings = Settings.from_environ(
        {
            "WEBHOOK_AUTH_TOKEN": "tok",
            "COG_WEBHOOK_SECRET": "whsec_c2VjcmV0",
            "COG_THROTTLE_RESPONSE_INTERVAL": "0.25",
        }
    )
    assert (settings.webhook_auth_token, settings.webhook_secret) == ("tok", "whsec_c2VjcmV0")
    assert settings.throttle_interval == 0.25
    empty = Settings.from_environ({"COG_THROTTLE_RESPONSE_INTERVAL": "soon"})
    assert (empty.webhook_auth_token, empty.webhook_secret, empty.throttle_interval) == (
        None,
        None,
        0.5,
    )
