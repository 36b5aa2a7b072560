"""Webhooks (spec §13) against a real loopback receiver: filter, throttle, order, retries.

No test here times anything. Predictors change state when the test tells
them to (``bursts``, ``log_bursts``), the receiver holds a request until the
test releases it, and throttle intervals and retry back-offs pass when a
fake ``sleep`` given to ``WebhookSender`` says so; every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest

from cogrt.config import Settings
from cogrt.errors import ConfigError
from cogrt.runner.prediction import Prediction
from cogrt.runner.runtime import Runtime
from cogrt.transfer.webhooks import TERMINAL_RETRIES, WebhookSender, retry_delay
from tests.support.harness import running
from tests.support.predictors import TRANSFER
from tests.support.waiting import settle, until_signalled
from tests.support.webhook_receiver import Hook, Receiver

load = TRANSFER.load

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def predictor(name: str) -> Any:
    return load(name).Predictor


def body(url: str, input: dict[str, Any] | None = None, **fields: Any) -> bytes:
    return msgspec.json.encode({"input": input or {}, "webhook": url, **fields})


async def finish(prediction: Prediction, timeout: float = 10) -> None:
    await asyncio.wait_for(prediction.wait(), timeout)


def statuses(hooks: list[Hook]) -> list[str]:
    return [hook.payload["status"] for hook in hooks]


class FakeSleep:
    """A ``WebhookSender`` ``sleep`` that ends when the test says the interval has passed.

    Each call records its delay and waits for ``advance()``; the sender
    cancels it when the prediction finishes first.
    """

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._asked = asyncio.Event()
        self._passed = asyncio.Event()

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self._passed.clear()
        self._asked.set()
        await self._passed.wait()

    def advance(self) -> None:
        """End the sleep in progress: its interval has passed."""
        self._passed.set()

    async def wait_asked(self, count: int, timeout: float = 10) -> None:
        """Wait until ``count`` sleeps were asked for; fail after ``timeout`` seconds."""
        await until_signalled(self._asked, lambda: len(self.delays) >= count, timeout)


@asynccontextmanager
async def sender(sleep: Any, throttle_interval: float = 3600.0) -> AsyncIterator[WebhookSender]:
    """A sender the test attaches to runtime predictions itself, so it can pass ``sleep``.

    The interval is far longer than any test: whether it has passed is the
    fake ``sleep``'s answer alone, however slow the machine. Leaving waits
    for every delivery task, so no webhook can arrive afterwards.
    """
    webhooks = WebhookSender(
        user_agent="cogrt/test", throttle_interval=throttle_interval, sleep=sleep
    )
    try:
        yield webhooks
    finally:
        await webhooks.aclose(10)


def attach(
    webhooks: WebhookSender, runtime: Runtime, url: str, events: Collection[str]
) -> Prediction:
    """Start a prediction without a webhook of the runtime's own; ``webhooks`` sends them."""
    prediction = runtime.start(runtime.decode_request(b'{"input":{}}'))
    webhooks.attach(prediction, url, events)  # before the prediction's task first runs
    return prediction


def produced(prediction: Prediction, count: int) -> asyncio.Event:
    """Set once ``prediction`` has published ``count`` output chunks."""
    event = asyncio.Event()
    prediction.add_listener(
        lambda name, data: name == "output" and data["index"] + 1 >= count and event.set()
    )
    return event


async def deadline(event: asyncio.Event, timeout: float = 10) -> None:
    await asyncio.wait_for(event.wait(), timeout)


ALL_EVENTS = ("start", "output", "logs", "completed")


async def test_streamed_tokens_send_few_webhooks_ending_with_the_full_output() -> None:
    """1000 tokens, three webhooks: the start, one coalesced state once the throttle
    interval passed, the terminal one, which the finish sends without waiting."""
    module = load("bursts")
    clock = FakeSleep()
    async with (
        Receiver() as receiver,
        running(module.Predictor) as runtime,
        sender(clock) as webhooks,
    ):
        prediction = attach(webhooks, runtime, receiver.url, ALL_EVENTS)
        await receiver.wait_for(lambda hooks: len(hooks) >= 1)  # start: sent at once
        module.BURSTS.put_nowait(400)
        await deadline(produced(prediction, 400))
        await clock.wait_asked(1)
        assert 0 < clock.delays[0] <= 3600  # what is left of the interval since the start
        assert len(receiver.hooks) == 1  # 400 outputs, nothing sent within the interval
        clock.advance()
        await receiver.wait_for(lambda hooks: len(hooks) >= 2)  # the held state, not dropped
        module.BURSTS.put_nowait(600)
        await deadline(produced(prediction, 1000))
        await clock.wait_asked(2)
        assert len(receiver.hooks) == 2
        module.BURSTS.put_nowait(0)  # finishes while the second interval runs
        await finish(prediction)
        await receiver.wait_for(lambda hooks: any(hook.terminal for hook in hooks))
    hooks = list(receiver.hooks)
    assert statuses(hooks) == ["processing", "processing", "succeeded"]
    assert [hook.payload["output"] for hook in hooks[:2]] == [None, [f"t{i}" for i in range(400)]]
    last = hooks[-1].payload
    assert last["output"] == [f"t{i}" for i in range(1000)]
    assert isinstance(last["metrics"]["predict_time"], float)
    assert len(clock.delays) == 2  # the finish cut the second interval short


@pytest.mark.parametrize("created_by", ["sync", "async"])
async def test_completed_filter_sends_only_the_terminal_webhook(created_by: Any) -> None:
    async with Receiver() as receiver, running(predictor("echo")) as runtime:
        request = runtime.decode_request(
            body(receiver.url, {"text": "hi"}, id="w1", webhook_events_filter=["completed"])
        )
        await finish(runtime.start(request, created_by=created_by))
        await receiver.wait_for(lambda hooks: len(hooks) >= 1)
    assert len(receiver.hooks) == 1
    [hook] = receiver.hooks
    assert hook.method == "POST" and hook.path == "/hook" and hook.status == 200
    assert hook.headers["content-type"] == "application/json"
    assert hook.headers["user-agent"].startswith("cogrt/")
    assert b'": ' not in hook.body and b', "' not in hook.body  # compact JSON
    payload = hook.payload
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
    module = load("bursts")
    settings = Settings(throttle_interval=0)
    async with Receiver() as receiver, running(module.Predictor, settings=settings) as rt:
        request = rt.decode_request(
            body(receiver.url, webhook_events_filter=["start", "completed"])
        )
        prediction = rt.start(request)
        await receiver.wait_for(lambda hooks: len(hooks) >= 1)
        for size in (100, 100, 0):
            module.BURSTS.put_nowait(size)
        await finish(prediction)
        await receiver.wait_for(lambda hooks: any(hook.terminal for hook in hooks))
    # Leaving the runtime waited for the delivery task: nothing else can come.
    assert statuses(receiver.hooks) == ["processing", "succeeded"]
    assert len(receiver.hooks[1].payload["output"]) == 200


async def test_an_empty_filter_sends_nothing() -> None:
    async with Receiver() as receiver:
        async with running(predictor("echo")) as runtime:
            request = runtime.decode_request(body(receiver.url, webhook_events_filter=[]))
            await finish(runtime.start(request))
        # Leaving the runtime waits for every delivery task, so a webhook would be here by now.
        assert receiver.hooks == []


def lines(first: int, last: int) -> str:
    return "".join(f"line {i}\n" for i in range(first, last))


async def test_logs_events_carry_partial_logs_and_respect_the_filter() -> None:
    clock = FakeSleep()
    module = load("log_bursts")
    async with (
        Receiver() as logs_receiver,
        Receiver() as output_receiver,
        running(module.Predictor) as runtime,
        sender(clock) as webhooks,
    ):
        logged = attach(webhooks, runtime, logs_receiver.url, ("logs", "completed"))
        module.LINES.put_nowait(10)  # the first log event is sent at once
        await logs_receiver.wait_for(lambda hooks: len(hooks) >= 1)
        module.LINES.put_nowait(10)
        await clock.wait_asked(1)
        assert len(logs_receiver.hooks) == 1  # ten more lines, held for the interval
        clock.advance()
        await logs_receiver.wait_for(lambda hooks: len(hooks) >= 2)
        module.LINES.put_nowait(0)
        await finish(logged)
        unlogged = attach(webhooks, runtime, output_receiver.url, ("output", "completed"))
        for count in (10, 10, 0):
            module.LINES.put_nowait(count)
        await finish(unlogged)
    # Leaving the sender waited for both delivery tasks: nothing else can come.
    hooks = logs_receiver.hooks
    assert statuses(hooks) == ["processing", "processing", "succeeded"]
    assert [hook.payload["logs"] for hook in hooks] == [lines(0, 10), lines(0, 20), lines(0, 20)]
    assert statuses(output_receiver.hooks) == ["succeeded"]
    assert output_receiver.hooks[0].payload["logs"] == lines(0, 20)


@pytest.mark.parametrize("held", [0, 1], ids=["start", "output"])
async def test_terminal_webhook_waits_for_an_intermediate_one_in_flight(held: int) -> None:
    """The receiver holds the start webhook, or the first output one, while the
    prediction runs to the end: the terminal one is not even begun until it is
    answered, so it cannot overtake it."""
    module = load("bursts")
    begun: list[str] = []  # the status in each POST the sender began, in order
    async with (
        Receiver(hold={held}) as receiver,
        running(module.Predictor) as runtime,
        sender(FakeSleep(), throttle_interval=0) as webhooks,
    ):
        post = webhooks.post

        async def recording_post(url: str, data: bytes, headers: Any, message_id: str) -> str:
            begun.append(msgspec.json.decode(data)["status"])
            return await post(url, data, headers, message_id)

        webhooks.post = recording_post  # type: ignore[method-assign]
        prediction = attach(webhooks, runtime, receiver.url, ALL_EVENTS)
        if held:
            await receiver.wait_for(lambda hooks: len(hooks) >= 1)
            module.BURSTS.put_nowait(1)
        await receiver.wait_held(1)
        for size in (300 - held, 0):
            module.BURSTS.put_nowait(size)
        await finish(prediction)
        await settle()  # a terminal POST begun at the finish would be in ``begun`` now
        assert begun == ["processing"] * (held + 1)
        assert statuses(receiver.hooks) == ["processing"] * held  # the held one is not in
        receiver.release()
        await receiver.wait_for(lambda hooks: any(hook.terminal for hook in hooks))
    hooks = receiver.hooks
    assert statuses(hooks) == ["processing"] * (held + 1) + ["succeeded"]
    assert begun == statuses(hooks)
    assert hooks[held].payload["output"] == (["t0"] if held else None)
    assert hooks[-1].payload["output"] == [f"t{i}" for i in range(300)]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_terminal_webhook_is_retried_until_delivered(status: int) -> None:
    backoffs: list[tuple[float, int]] = []

    async def sleep(delay: float) -> None:
        """Back-offs pass at once; each records how many attempts came before it."""
        backoffs.append((delay, len(receiver.hooks)))

    async with (
        Receiver(statuses=[status, status]) as receiver,
        running(predictor("echo")) as runtime,
        sender(sleep) as webhooks,
    ):
        await finish(attach(webhooks, runtime, receiver.url, ("completed",)))
        await receiver.wait_for(lambda hooks: len(hooks) >= 3)
    assert [hook.status for hook in receiver.hooks] == [status, status, 200]
    assert statuses(receiver.hooks) == ["succeeded"] * 3
    assert [delay for delay, _ in backoffs] == pytest.approx([0.2, 0.4])
    assert [attempts for _, attempts in backoffs] == [1, 2]  # each one after a failure


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

    async def three_predictions() -> None:
        async with running(predictor("echo"), settings=settings) as runtime:
            for text in ("a", "b", "c"):
                request = runtime.decode_request(body(receiver.url, {"text": text}))
                prediction = runtime.start(request)
                await finish(prediction)
                assert prediction.status == "succeeded"
                assert runtime.status == "READY"
            await receiver.wait_for(lambda hooks: len(hooks) >= 3)  # a send is stuck for each

    async with Receiver(hang=True) as receiver:
        # Leaving the runtime cancels the stuck sends after the grace; the deadline is
        # far below the 30 s read timeout they would otherwise wait out.
        await asyncio.wait_for(three_predictions(), 10)
    assert [hook.status for hook in receiver.hooks] == [0, 0, 0]  # never answered


async def test_a_refused_connection_delays_nothing_and_shutdown_is_bounded() -> None:
    settings = Settings(webhook_shutdown_grace=0.5)

    async def three_predictions() -> None:
        async with running(predictor("echo"), settings=settings) as runtime:
            for _ in range(3):
                request = runtime.decode_request(body("http://127.0.0.1:1/nonexistent"))
                prediction = runtime.start(request)
                await finish(prediction)
                assert prediction.status == "succeeded"
                assert runtime.status == "READY"

    # The terminal sends retry for over 200 s in all; leaving the runtime gives them
    # the grace, then cancels them. (test_a_closing_runtime_still_delivers_a_terminal_webhook
    # shows the grace lets a retry through.)
    await asyncio.wait_for(three_predictions(), 10)


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
        before = int(time.time())
        await finish(runtime.start(request))
        await receiver.wait_for(lambda hooks: len(hooks) >= 3)
        after = int(time.time())
    start, failed_terminal, terminal = receiver.hooks
    assert all(verify(key, hook) for hook in receiver.hooks)
    assert not verify(b"another key", terminal)
    # A retry is the same message: same id, signed again.
    assert failed_terminal.headers["webhook-id"] == terminal.headers["webhook-id"]
    assert start.headers["webhook-id"] != terminal.headers["webhook-id"]
    assert before <= int(terminal.headers["webhook-timestamp"]) <= after  # seconds, now


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
