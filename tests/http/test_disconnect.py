"""A sync request whose client leaves (or whose handler is canceled) cancels its prediction."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from cogrt.app import create_app

from .helpers import load

SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "POST",
    "scheme": "http",
    "path": "/predictions",
    "raw_path": b"/predictions",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"content-type", b"application/json")],
    "client": ("127.0.0.1", 50000),
    "server": ("cogrt", 80),
}


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached before the deadline"
        await asyncio.sleep(0.005)


@pytest.mark.parametrize("how", ["client disconnects", "server cancels the handler"])
@pytest.mark.parametrize(
    ("model", "slots"),
    [("http_sleep_steps", 1), ("http_async_sleep", 8)],
    ids=["one slot, watched at once", "many slots, watched after a delay"],
)
async def test_leaving_client_cancels_prediction_and_frees_slot(
    how: str, model: str, slots: int
) -> None:
    app = create_app(load(model).Predictor, concurrency=slots)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        assert await runtime.wait_setup(30) == "READY"
        gone = asyncio.Event()
        body = [{"type": "http.request", "body": b'{"id":"d1","input":{"seconds":30}}'}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if body:
                return body.pop()
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        handler = asyncio.ensure_future(app(dict(SCOPE), receive, send))
        await until(lambda: runtime.get("d1") is not None)
        prediction = runtime.get("d1")
        await until(lambda: prediction.status == "processing")
        if how == "client disconnects":
            gone.set()
            await asyncio.wait_for(handler, 10)
        else:
            handler.cancel()
            with pytest.raises(asyncio.CancelledError):
                await handler
        await asyncio.wait_for(prediction.wait(), 10)
        assert prediction.status == "canceled"
        assert runtime.status == "READY"
        assert runtime.get("d1") is None
        assert not [task for task in asyncio.all_tasks() if "_cancel_on_disconnect" in repr(task)]
        result = await runtime.predict({"seconds": 0})
        assert result["status"] == "succeeded"
