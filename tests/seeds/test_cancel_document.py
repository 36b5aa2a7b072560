"""The modern interface document's cancellation example (issue 17).

"When a prediction is canceled, Cog raises an exception to interrupt the
predict() method", like ``KeyboardInterrupt``: the blocking calls models
commonly make on the worker thread end when the cancel arrives.
"""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import pytest

from cogrt.runner import interruptible
from cogrt.runner.runtime import Runtime
from tests.support.data_uris import data_uri
from tests.support.harness import running
from tests.support.predictors import PredictorFolder
from tests.support.waiting import until

SEEDS = PredictorFolder(Path(__file__).resolve().parent / "predictors")


class Signal:
    """A call from the worker thread, awaited on the test's loop with a deadline."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def __call__(self) -> None:
        self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self) -> None:
        await asyncio.wait_for(self._event.wait(), 30)


@pytest.fixture
async def cancel_model() -> AsyncIterator[tuple[ModuleType, Runtime]]:
    module = SEEDS.load("modern_cancel")
    async with running(module.Predictor) as runtime:
        yield module, runtime


HOWS = ["sleep", "event", "event_forever", "condition", "queue", "popen_wait", "run_capture"]


@pytest.mark.parametrize("how", HOWS)
async def test_cancel_interrupts_the_blocking_call(
    cancel_model: tuple[ModuleType, Runtime], how: str
) -> None:
    """Each blocks for an hour; the bounded wait fails unless the cancel interrupts it."""
    module, runtime = cancel_model
    module.HOW = how
    entered = module.ENTERED = Signal()
    cleaning = module.CLEANUP = Signal()
    image = data_uri(b"pixels", "image/png")
    prediction = runtime.start(
        runtime.decode_request(f'{{"input":{{"image":"{image}"}}}}'.encode())
    )
    await entered.wait()
    await until(lambda: bool(prediction.guard._wakers))  # blocked in the call, not before it
    prediction.cancel()
    await cleaning.wait()  # the document's `except CancelationException:` ran
    module.CLEANUP_GATE.set()
    await asyncio.wait_for(prediction.wait(), 30)
    assert prediction.status == "canceled"
    # The cleanup's own wait was not cut short: one cancel interrupts once.
    assert module.CLEANED == [True]
    for child in module.CHILDREN:  # a canceled wait terminates its child (else this times out)
        child.wait(30)


async def test_the_blocking_calls_are_the_originals_on_other_threads() -> None:
    module = SEEDS.load("modern_cancel")
    async with running(module.Predictor):
        assert interruptible.installed()
        assert time.sleep is interruptible.sleep
        results: list[object] = []

        def elsewhere() -> None:
            results.append(threading.Event().wait(0))
            results.append(subprocess.run(["true"], check=True).returncode)
            time.sleep(0)

        await asyncio.to_thread(elsewhere)
        assert results == [False, 0]
    assert not interruptible.installed()
    assert time.sleep is interruptible._sleep
    assert threading.Condition.wait is interruptible._condition_wait
