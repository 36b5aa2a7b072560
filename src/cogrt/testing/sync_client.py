"""``Client``: ``AsyncClient`` for plain (sync) tests, its event loop on a thread of its own.

    with Client("predict.py:Predictor") as client:
        assert client.predict(text="hi") == "hello hi"

Every call hands a coroutine to that loop and waits for its answer
(``run_coroutine_threadsafe``), the only place the two threads meet. The
model runs exactly as under the server: sync code on the runtime's worker
thread, async code on the loop. A session-scoped pytest fixture holds one
(:mod:`cogrt.testing.plugin`), so setup runs once per test session.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

from cogrt.testing.client import AsyncClient, Result, Running

__all__ = ["Client", "SyncRunning"]

T = TypeVar("T")


class SyncRunning:
    """A started prediction, from a sync test: iterate its chunks, cancel, or wait."""

    def __init__(self, running: Running, call: Callable[[Awaitable[Any]], Any]) -> None:
        self._running = running
        self._call = call

    @property
    def id(self) -> str:
        return self._running.id

    def cancel(self) -> None:
        async def cancel() -> None:
            self._running.cancel()

        self._call(cancel())

    def result(self) -> Result:
        result: Result = self._call(self._running.result())
        return result

    def __iter__(self) -> Iterator[Any]:
        chunks = self._running.chunks()
        while True:
            try:
                yield self._call(chunks.__anext__())
            except StopAsyncIteration:
                return


class Client:
    """A predictor under test; see :class:`cogrt.testing.AsyncClient` for the arguments."""

    def __init__(self, predictor: Any, **runtime_options: Any) -> None:
        self._predictor = predictor
        self._options = runtime_options
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: AsyncClient | None = None

    def __enter__(self) -> Client:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="cogrt-test-client", daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread

        async def enter() -> AsyncClient:
            return await AsyncClient(self._predictor, **self._options).__aenter__()

        try:
            self._client = self._call(enter())
        except BaseException:
            self._stop_loop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self._client is not None:
                self._call(self._client.__aexit__(None, None, None))
                self._client = None
        finally:
            self._stop_loop()

    @property
    def runtime(self) -> Any:
        return self._async().runtime

    def predict(self, **inputs: Any) -> Any:
        """One prediction's output; ``PredictionFailedError`` unless it succeeded."""
        return self._call(self._async().predict(**inputs))

    def run(self, **inputs: Any) -> Result:
        """One prediction's whole record, whatever its status."""
        result: Result = self._call(self._async().run(**inputs))
        return result

    def train(self, **inputs: Any) -> Any:
        return self._call(self._async().train(**inputs))

    def start(self, *, training: bool = False, **inputs: Any) -> SyncRunning:
        """Start a prediction and return at once (to cancel it, or read chunks)."""
        client = self._async()

        async def start() -> Running:
            return client.start(training=training, **inputs)

        return SyncRunning(self._call(start()), self._call)

    def stream(self, **inputs: Any) -> Iterator[Any]:
        """The output chunks as they arrive; raises at the end if the prediction failed."""
        return iter(self.start(**inputs))

    def _async(self) -> AsyncClient:
        if self._client is None:
            raise RuntimeError("use the Client in a `with` block (it sets the predictor up)")
        return self._client

    def _call(self, coroutine: Awaitable[T]) -> T:
        assert self._loop is not None
        future = asyncio.run_coroutine_threadsafe(_awaited(coroutine), self._loop)
        return future.result()

    def _stop_loop(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable
