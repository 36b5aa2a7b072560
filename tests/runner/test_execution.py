"""Admission, sync/async execution, streaming, cancel and failures (spec §9, §10, §16, §20)."""

from __future__ import annotations

import asyncio
import random
import threading

import pytest

from cogrt.errors import AtCapacityError, DuplicatePredictionError, PredictionNotFoundError
from cogrt.runner.prediction import Prediction
from cogrt.runner.runtime import Runtime
from tests.support.harness import running
from tests.support.predictors import RUNNER
from tests.support.waiting import settle

load = RUNNER.load


def request(runtime: Runtime, body: bytes = b"{}") -> object:
    return runtime.decode_request(body)


async def test_refuses_when_every_slot_is_busy() -> None:
    module = load("gated_sync")
    async with running(module.Predictor) as runtime:
        first = runtime.start(request(runtime))
        with pytest.raises(AtCapacityError):
            runtime.start(request(runtime))
        module.RELEASE.set()
        await first.wait()
        assert first.status == "succeeded"


async def test_duplicate_in_flight_id_is_refused() -> None:
    module = load("async_cancel")
    async with running(module.Predictor, concurrency=2) as runtime:
        first = runtime.start(request(runtime), prediction_id="same")
        with pytest.raises(DuplicatePredictionError):
            runtime.start(request(runtime), prediction_id="same")
        first.cancel()
        await first.wait()


async def test_slot_is_free_the_instant_a_waiter_wakes() -> None:
    async with running(load("echo_sync").Predictor) as runtime:
        for i in range(300):
            prediction = runtime.start(request(runtime, b'{"input":{"text":"%d"}}' % i))
            await prediction.wait()
            assert prediction.snapshot()["output"] == str(i)


async def test_prediction_record_fields() -> None:
    async with running(load("echo_sync").Predictor) as runtime:
        result = await runtime.predict({"text": "a"}, id="abc", created_at="2024-01-01T00:00:00Z")
    assert result["id"] == "abc"
    assert result["status"] == "succeeded"
    assert result["input"] == {"text": "a"}
    assert result["created_at"] == "2024-01-01T00:00:00Z"
    assert result["started_at"].endswith("+00:00")
    assert result["completed_at"].endswith("+00:00")
    assert result["error"] is None
    assert isinstance(result["metrics"]["predict_time"], float)


async def test_generated_ids_are_unique() -> None:
    async with running(load("echo_sync").Predictor) as runtime:
        ids = {(await runtime.predict())["id"] for _ in range(50)}
    assert len(ids) == 50 and all(i.startswith("pred_") for i in ids)


async def test_sync_generator_streams_in_batches() -> None:
    flushes = 0
    original = Prediction.flush_chunks

    def counting(self: Prediction) -> None:
        nonlocal flushes
        flushes += 1
        original(self)

    async with running(load("stream_sync").Predictor) as runtime:
        Prediction.flush_chunks = counting  # type: ignore[method-assign]
        try:
            events: list[str] = []
            prediction = runtime.start(request(runtime))
            prediction.add_listener(lambda name, data: events.append(name))
            await prediction.wait()
        finally:
            Prediction.flush_chunks = original  # type: ignore[method-assign]
    assert prediction.snapshot()["output"] == [f"t{i}" for i in range(1000)]
    assert events.count("output") == 1000 and events[-1] == "completed"
    assert flushes < 500


async def test_generator_failure_keeps_partial_output() -> None:
    async with running(load("stream_fails").Predictor) as runtime:
        result = await runtime.predict()
    assert result["status"] == "failed"
    assert result["error"] == "ValueError: midstream"
    assert result["output"] == [1, 2]


async def test_async_generator_emits_items_as_produced() -> None:
    module = load("async_stream")
    module.GATE["second"] = asyncio.Event()
    async with running(module.Predictor) as runtime:
        first_chunk = asyncio.Event()
        prediction = runtime.start(request(runtime))
        prediction.add_listener(lambda name, data: name == "output" and first_chunk.set())
        await asyncio.wait_for(first_chunk.wait(), 5)
        assert prediction.snapshot()["output"] == ["first"]
        module.GATE["second"].set()
        await prediction.wait()
    assert prediction.snapshot()["output"] == ["first", "second"]


class Entered:
    """A predictor's "I am inside ``predict()``" signal: called from any thread, awaited here.

    The call hops onto the test's loop with ``call_soon_threadsafe``, so the
    test can wait on an ``asyncio.Event`` with a deadline instead of sleeping
    and hoping the worker thread got that far.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def __call__(self) -> None:
        self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float = 5) -> None:
        await asyncio.wait_for(self._event.wait(), timeout)


async def test_cancel_sync_prediction_raises_cancelation_in_user_code() -> None:
    module = load("cancel_spin")
    entered = module.ENTERED = Entered()
    async with running(module.Predictor) as runtime:
        prediction = runtime.start(request(runtime))
        await entered.wait()
        runtime.cancel(prediction.id)
        runtime.cancel(prediction.id)  # idempotent
        await asyncio.wait_for(prediction.wait(), 5)
        assert prediction.status == "canceled"
        assert len(module.CAUGHT) == 1  # raised inside the running call, once
        assert prediction.snapshot()["error"] is None
        assert "predict_time" in prediction.snapshot()["metrics"]
        runtime.cancel(prediction.id)  # a repeat is harmless, and changes nothing
        assert prediction.status == "canceled" and len(module.CAUGHT) == 1
        finished = await runtime.predict({"seconds": 0.01})
        assert finished["output"] == "finished"
        with pytest.raises(PredictionNotFoundError):  # ended without a cancel: gone
            runtime.cancel(finished["id"])
    assert module.CALLS == [30.0, 0.01] and len(module.CAUGHT) == 1


@pytest.mark.parametrize("name", ["cancel_spin", "cancel_async"])
async def test_cancel_before_start_prevents_the_call(name: str) -> None:
    module = load(name)
    async with running(module.Predictor) as runtime:
        prediction = runtime.start(request(runtime))
        prediction.cancel()
        await asyncio.wait_for(prediction.wait(), 5)
        assert prediction.status == "canceled"
        assert module.CALLS == []  # predict() never began
        assert runtime.status == "READY"


async def test_cancel_waits_for_a_blocking_c_call() -> None:
    module = load("cancel_in_c")
    entered = module.ENTERED = Entered()
    async with running(module.Predictor) as runtime:
        prediction = runtime.start(request(runtime))
        try:
            await entered.wait()
            prediction.cancel()
            await settle()
            assert prediction.status == "processing" and runtime.status == "BUSY"
        finally:
            module.RELEASE.release()  # the C call returns; the pending cancel lands
        await asyncio.wait_for(prediction.wait(), 5)
        assert prediction.status == "canceled"
        assert runtime.status == "READY"
    assert module.RETURNED == []


async def test_sync_predictor_swallowing_cancel_succeeds() -> None:
    module = load("cancel_swallow")
    entered = module.ENTERED = Entered()
    async with running(module.Predictor) as runtime:
        prediction = runtime.start(request(runtime))
        await entered.wait()
        prediction.cancel()
        await asyncio.wait_for(prediction.wait(), 5)
    assert prediction.status == "succeeded"
    assert prediction.snapshot()["output"] == "swallowed"


@pytest.mark.parametrize("swallow", [False, True])
async def test_cancel_async_prediction(swallow: bool) -> None:
    module = load("cancel_async")
    entered = module.ENTERED = Entered()
    async with running(module.Predictor) as runtime:
        body = b'{"input":{"swallow":%s}}' % (b"true" if swallow else b"false")
        prediction = runtime.start(request(runtime, body))
        await entered.wait()
        prediction.cancel()
        await asyncio.wait_for(prediction.wait(), 5)
    assert prediction.status == "canceled"
    assert list(module.SAW_CANCEL) == [swallow]  # the cancel reached the running coroutine


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("raise", "ValueError: something broke"),
        ("raise_empty", "KeyError"),
        ("exit", "SystemExit: 2"),
        ("interrupt", "KeyboardInterrupt"),
        ("bytes", "bytes"),
        ("nan", "output contains nan"),
    ],
)
async def test_failures_fail_only_the_prediction(kind: str, error: str) -> None:
    async with running(load("failures").Predictor) as runtime:
        result = await runtime.predict({"kind": kind})
        assert result["status"] == "failed"
        assert error in result["error"]
        assert runtime.status == "READY"
        assert (await runtime.predict({"kind": "ok"}))["output"] == "fine"


async def test_thousand_concurrent_async_predictions_do_not_cross_talk() -> None:
    async with running(load("async_echo").Predictor, concurrency=1000) as runtime:
        assert runtime.slots == 1000
        predictions = [
            runtime.start(request(runtime, b'{"input":{"tag":"p%d"}}' % i)) for i in range(1000)
        ]
        with pytest.raises(AtCapacityError):
            runtime.start(request(runtime, b'{"input":{"tag":"extra"}}'))
        await asyncio.wait_for(asyncio.gather(*(p.wait() for p in predictions)), 30)
    for i, prediction in enumerate(predictions):
        result = prediction.snapshot()
        tag = f"p{i}"
        assert result["status"] == "succeeded"
        assert result["output"] == tag
        assert result["logs"] == f"start {tag}\nend {tag}\n"
        assert result["metrics"]["tag"] == tag


async def test_random_cancels_never_leak_into_later_predictions() -> None:
    module = load("spin_sync")
    rng = random.Random(1234)
    terminal_events: dict[str, int] = {}
    async with running(module.Predictor) as runtime:
        for _ in range(200):
            prediction = runtime.start(request(runtime, b'{"input":{"seconds":0.01}}'))
            prediction.add_listener(
                lambda name, data, pid=prediction.id: (
                    name == "completed"
                    and terminal_events.__setitem__(pid, terminal_events.get(pid, 0) + 1)
                )
            )
            await asyncio.sleep(rng.uniform(0, 0.015))
            cancel_requested = rng.random() < 0.7
            if cancel_requested:
                prediction.cancel()
            await asyncio.wait_for(prediction.wait(), 5)
            if not cancel_requested:
                assert prediction.status == "succeeded", prediction.snapshot()
            else:
                assert prediction.status in ("succeeded", "canceled")
        for _ in range(20):
            assert (await runtime.predict({"seconds": 0.001}))["status"] == "succeeded"
    assert len(terminal_events) == 200 and set(terminal_events.values()) == {1}


async def test_no_thread_or_temp_file_outlives_the_runtime(tmp_path, monkeypatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    before = set(threading.enumerate())
    async with running(load("path_in").Predictor) as runtime:
        data = b'{"input":{"doc":"data:text/plain;base64,aGVsbG8="}}'
        prediction = runtime.start(request(runtime, data))
        await prediction.wait()
        assert prediction.snapshot()["output"] == "hello"
    assert not [t for t in set(threading.enumerate()) - before if t.name == "cogrt-predictor"]
    assert list(tmp_path.iterdir()) == []
