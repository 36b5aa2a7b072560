"""``Runtime.drain``: finish what can finish in time, cancel the rest, leave nothing behind."""

from __future__ import annotations

import asyncio
import gc
import warnings

import pytest

from cogrt.runner.prediction import Prediction
from cogrt.runner.runtime import Runtime
from tests.support.harness import running
from tests.support.predictors import RUNNER

load = RUNNER.load


def start_async(runtime: Runtime, count: int) -> tuple[list[Prediction], asyncio.Event]:
    """Start ``count`` predictions; the event is set once all of them are running."""
    started = asyncio.Event()
    predictions: list[Prediction] = []

    def on_event(name: str, _data: object) -> None:
        if name == "start" and all(p.status == "processing" for p in predictions):
            started.set()

    for _ in range(count):
        request = runtime.decode_request(b'{"input": {}}')
        prediction = runtime.start(request)
        prediction.add_listener(on_event)
        predictions.append(prediction)
    return predictions, started


@pytest.mark.parametrize("grace", [0, 0.05], ids=["no grace", "grace"])
async def test_drain_cancels_what_is_still_running_and_leaves_no_unawaited_coroutine(
    grace: float,
) -> None:
    async with running(load("async_cancel").Predictor, concurrency=3) as runtime:
        predictions, started = start_async(runtime, 3)
        await asyncio.wait_for(started.wait(), 10)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            await runtime.drain(grace)
            gc.collect()
        assert [p.status for p in predictions] == ["canceled"] * 3
        assert runtime.status == "READY"
    assert [str(w.message) for w in caught if w.category is RuntimeWarning] == []


async def test_drain_lets_predictions_finish_within_the_grace() -> None:
    module = load("gated_sync")
    async with running(module.Predictor) as runtime:
        prediction = runtime.start(runtime.decode_request(b'{"input": {}}'))
        await asyncio.to_thread(module.STARTED.wait, 10)
        module.RELEASE.set()
        await runtime.drain(30)
        assert (prediction.status, prediction.output()) == ("succeeded", "released")


async def test_drain_with_nothing_in_flight_returns() -> None:
    async with running(load("async_cancel").Predictor) as runtime:
        await runtime.drain(0)
        await runtime.drain(1)
        assert runtime.status == "READY"
