"""Metrics (spec §17) and log capture (spec §15) seen from a prediction's record."""

from __future__ import annotations

import asyncio

import pytest

from cogrt.sdk.scope import Scope, current_scope
from tests.support.harness import running
from tests.support.predictors import RUNNER

load, ref = RUNNER.load, RUNNER.ref


async def test_metrics_modes_nesting_and_deletion() -> None:
    async with running(load("metrics").Predictor) as runtime:
        result = await runtime.predict()
    metrics = result["metrics"]
    assert metrics["temperature"] == 0.7
    assert metrics["tokens"] == 3
    assert metrics["timing"] == {"preprocess": 0.12}
    assert metrics["steps"] == ["a", "b"]
    assert "gone" not in metrics and "nulled" not in metrics


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("predict_time", "'predict_time' is reserved by the runtime"),
        ("cog.x", "the 'cog.' prefix is reserved"),
        ("a..b", "must not contain empty segments"),
        ("9lives", "must start with a letter"),
    ],
)
async def test_invalid_metric_fails_the_prediction(name: str, message: str) -> None:
    async with running(load("metrics").Predictor) as runtime:
        result = await runtime.predict({"bad": name})
    assert result["status"] == "failed"
    assert message in result["error"]


def test_scope_outside_a_prediction_is_a_silent_no_op() -> None:
    scope = current_scope()
    scope.record_metric("", object())  # no validation outside predictions
    assert scope.context == {}


@pytest.mark.parametrize(
    ("calls", "error", "message"),
    [
        ([("k", 1, "bogus")], TypeError, "Invalid metric mode: 'bogus'"),
        ([("k", object(), None)], TypeError, "Unsupported metric value type: object"),
        ([("k", float("nan"), None)], ValueError, "finite"),
        ([("a" * 129, 1, None)], ValueError, "128 characters or fewer (got 129 characters)"),
        ([("a.b.c.d.e", 1, None)], ValueError, "at most 4 dot-separated segments (got 5)"),
        ([(".a", 1, None)], ValueError, "must not start with a dot"),
        ([("a.", 1, None)], ValueError, "must not end with a dot"),
        ([("a__b", 1, None)], ValueError, "must not contain consecutive underscores"),
        ([("a-b", 1, None)], ValueError, "contains invalid character '-'"),
        ([("ab_", 1, None)], ValueError, "must end with a letter or digit"),
    ],
)
def test_metric_validation(calls: list, error: type, message: str) -> None:
    scope = Scope()
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        for key, value, mode in calls:
            scope.record_metric(key, value, mode)


def test_replace_overwrites_a_value_of_any_type() -> None:
    scope = Scope()
    scope.record_metric("k", 1)
    scope.record_metric("k", 1.5)
    scope.record_metric("k", "s", "replace")
    scope.metrics["k"] = {"a": [1]}
    assert scope.snapshot() == {"k": {"a": [1]}}


@pytest.mark.parametrize(
    ("calls", "kept", "reason"),
    [
        ([("k", "s", "incr")], {}, "Increment mode requires int or float, got str"),
        ([("k", "s", None), ("k", 1, "incr")], {"k": "s"}, "cannot increment a str"),
        ([("k", 1, "append"), ("k", 2.0, "increment")], {"k": [1]}, "cannot increment a list"),
    ],
)
def test_an_increment_that_cannot_add_is_logged_and_skipped(
    calls: list, kept: dict, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    scope = Scope()
    for key, value, mode in calls:
        scope.record_metric(key, value, mode)
    assert scope.snapshot() == kept
    assert f"cogrt: metric 'k' was not recorded: {reason}" in capsys.readouterr().err


def test_append_to_a_scalar_makes_a_list_and_deleting_allows_a_new_type() -> None:
    scope = Scope()
    scope.record_metric("x", 1)
    scope.record_metric("x", 2, "append")
    scope.metrics.delete("x")
    scope.record_metric("x", "now a string")
    assert scope.snapshot() == {"x": "now a string"}


async def test_logs_capture_every_source_and_flush_the_partial_line() -> None:
    async with running(ref("logs")) as runtime:
        result = await runtime.predict()
    logs = result["logs"]
    for line in ("from print\n", "to stderr\n", "INFO from logging\n", "from a helper thread\n"):
        assert line in logs
    assert logs.endswith("partial line")


async def test_failure_appends_the_traceback_to_logs() -> None:
    async with running(ref("logs")) as runtime:
        result = await runtime.predict({"fail": True})
    assert result["status"] == "failed"
    assert "from print\n" in result["logs"]
    assert "Traceback (most recent call last)" in result["logs"]
    assert "ValueError: bad input" in result["logs"]


async def test_logs_between_predictions_are_not_attributed() -> None:
    async with running(load("echo_sync").Predictor) as runtime:
        print("outside any prediction")
        result = await runtime.predict()
    assert result["logs"] == ""


async def test_capture_survives_user_code_replacing_stdout() -> None:
    async with running(load("replaces_stdout").Predictor) as runtime:
        result = await runtime.predict()
    assert result["output"] == "into my own stream\n"
    assert result["logs"] == "into my own stream\n"


async def test_async_setup_output_goes_to_the_setup_logs() -> None:
    async with running(ref("async_setup_prints")) as runtime:
        health = await runtime.health()
    assert "loading weights asynchronously\n" in health["setup"]["logs"]


async def test_writes_from_the_loop_thread_never_land_in_a_sync_prediction() -> None:
    module = load("gated_sync")
    async with running(module.Predictor) as runtime:
        prediction = runtime.start(runtime.decode_request(b"{}"))
        assert await asyncio.to_thread(module.STARTED.wait, 10)
        print("server access line, written on the event loop")
        module.RELEASE.set()
        await prediction.wait()
    assert prediction.status == "succeeded"
    assert "server access line" not in prediction.logs


async def test_two_runtimes_in_one_process_keep_their_logs_apart() -> None:
    first, second = load("gated_prints"), load("gated_prints")
    async with running(first.Predictor) as a, running(second.Predictor) as b:
        in_a = a.start(a.decode_request(b'{"input": {"tag": "a"}}'))
        assert await asyncio.to_thread(first.STARTED.wait, 10)
        in_b = b.start(b.decode_request(b'{"input": {"tag": "b"}}'))
        assert await asyncio.to_thread(second.STARTED.wait, 10)
        first.RELEASE.set()  # a prints while b's prediction is running
        await in_a.wait()
        second.RELEASE.set()
        await in_b.wait()
    assert in_a.logs == "a started\na released\n"
    assert in_b.logs == "b started\nb released\n"
