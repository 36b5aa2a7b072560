"""The in-process requester maps a runtime's refusals to the HTTP outcomes."""

from __future__ import annotations

import asyncio
import time

from cogrt import Runtime
from cogrt.bench.inprocess import InProcessRequester
from cogrt.bench.outcomes import Tally
from cogrt.sdk import BasePredictor

GATE = asyncio.Event()


class Gated(BasePredictor):
    async def predict(self, n: int = 1) -> int:
        await GATE.wait()
        return n


async def test_full_runtime_is_409_and_bad_input_is_422() -> None:
    GATE.clear()
    async with Runtime(Gated()) as runtime:
        assert await runtime.wait_setup(30) == "READY"
        holder = InProcessRequester(runtime, [{"input": {"n": 2}}], stream=False, timeout=30)
        tally = Tally()
        first = asyncio.ensure_future(holder.send(0, time.perf_counter(), tally))
        while runtime.status != "BUSY":  # the first prediction holds the only slot
            await asyncio.sleep(0)
        await holder.send(1, time.perf_counter(), tally)
        assert tally.counts["409"] == 1
        bad = InProcessRequester(runtime, [{"input": {"n": "two"}}], stream=False, timeout=30)
        await bad.send(0, time.perf_counter(), tally)
        assert tally.counts["422"] == 1 and "rejected the input" in (tally.first_error or "")
        GATE.set()
        await first
        assert tally.counts["ok"] == 1 and tally.latency.count == 1
