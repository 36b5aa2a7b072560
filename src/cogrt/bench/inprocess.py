"""Predictions straight into a ``Runtime``: the model's and the engine's cost, no HTTP.

The same outcomes as over HTTP: a full runtime is a 409, a request its schema
rejects a 422, and the prediction's terminal status otherwise. With
``stream``, a listener on each prediction's events records the time to the
first output chunk and the chunk count, as the SSE mode does over HTTP.
"""

from __future__ import annotations

import asyncio
import os
import time
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import msgspec

from cogrt.bench.outcomes import Tally
from cogrt.errors import AtCapacityError, BenchError, CogrtError, RequestError

if TYPE_CHECKING:
    from cogrt.runner.runtime import Runtime

__all__ = ["InProcessRequester"]

_TERMINAL = {"succeeded": "ok", "failed": "failed", "canceled": "canceled"}


class _Chunks:
    """A prediction listener counting ``output`` events."""

    __slots__ = ("chunks", "first_at", "last_at")

    def __init__(self) -> None:
        self.chunks = 0
        self.first_at: float | None = None
        self.last_at = 0.0

    def __call__(self, event: str, data: Any) -> None:
        if event == "output":
            now = time.perf_counter()
            self.chunks += 1
            if self.first_at is None:
                self.first_at = now
            self.last_at = now


class InProcessRequester:
    def __init__(
        self, runtime: Runtime, inputs: list[dict[str, Any]], stream: bool, timeout: float
    ) -> None:
        self.runtime = runtime
        self.stream = stream
        self.timeout = timeout
        self._bodies = [msgspec.json.encode(body) for body in inputs]

    async def send(self, index: int, start: float, tally: Tally) -> None:
        runtime = self.runtime
        try:
            request = runtime.decode_request(self._bodies[index % len(self._bodies)])
            prediction = runtime.start(request)
        except AtCapacityError:
            tally.add("409", round((time.perf_counter() - start) * 1e6))
            return
        except RequestError as exc:
            latency = round((time.perf_counter() - start) * 1e6)
            tally.add("422", latency, f"the model rejected the input: {exc}")
            return
        except CogrtError as exc:  # not ready: the runtime's 503
            tally.add("5xx", round((time.perf_counter() - start) * 1e6), str(exc))
            return
        chunks = _Chunks() if self.stream else None
        if chunks is not None:
            prediction.add_listener(chunks)
        try:
            await asyncio.wait_for(prediction.wait(), self.timeout)
        except asyncio.TimeoutError:
            prediction.cancel()  # as a client that gives up would: its slot comes back
            tally.add("timeout", 0, f"no answer within {self.timeout:g} s")
            return
        latency = round((time.perf_counter() - start) * 1e6)
        if chunks is not None:
            first = chunks.first_at
            ttft = None if first is None else round((first - start) * 1e6)
            tally.add_stream(ttft, chunks.chunks, chunks.last_at - (first or chunks.last_at))
        outcome = _TERMINAL.get(prediction.status, "error")
        detail = None if outcome == "ok" else f"prediction {prediction.status}: {prediction.error}"
        tally.add(outcome, latency, detail)


async def start_runtime(ref: str | None, setup_timeout: float, stack: AsyncExitStack) -> Runtime:
    """A runtime for the model in this folder, set up, and exited by ``stack``.

    The reference follows ``python -m cogrt``'s rules (REF, else
    ``COG_PREDICT_TYPE_STUB``, else ``cog.yaml``), and ``cog.yaml``'s
    environment is applied first, as the server would.
    """
    from cogrt.config import Settings, apply_environment, load_cog_yaml
    from cogrt.runner.runtime import Runtime

    config = load_cog_yaml(".")
    apply_environment(config.environment)
    target = ref or os.environ.get("COG_PREDICT_TYPE_STUB") or config.predictor_ref
    if not target:
        raise BenchError("no model here: pass REF (predict.py:Predictor) or run in a model folder")
    concurrency = config.concurrency.max if config.concurrency is not None else None
    runtime = Runtime(target, settings=Settings.from_environ(), concurrency=concurrency)
    await stack.enter_async_context(runtime)
    status = await runtime.wait_setup(setup_timeout)
    if status == "STARTING":
        raise BenchError(f"the model's setup did not finish within {setup_timeout:g} s")
    if status not in ("READY", "BUSY"):
        logs = (await runtime.health())["setup"].get("logs", "")
        raise BenchError(f"the model's setup failed:\n{logs}")
    return runtime
