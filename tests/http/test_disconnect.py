"""A sync request whose client leaves (or whose handler is canceled) cancels its prediction."""

from __future__ import annotations

import asyncio
import gc
import json
import socket
from typing import Any

import pytest

from cogrt.http import slot_wait
from cogrt.http.app import create_app
from cogrt.http.disconnect import Watching
from tests.support.harness import served
from tests.support.predictors import HTTP
from tests.support.server_process import Server, raw_post, running
from tests.support.waiting import until

load = HTTP.load

ASYNC = {"prefer": "respond-async"}

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
        assert not [task for task in asyncio.all_tasks() if "_call_on_disconnect" in repr(task)]
        result = await runtime.predict({"seconds": 0})
        assert result["status"] == "succeeded"


async def test_a_prediction_right_after_a_cancel_waits_for_the_slot_instead_of_409() -> None:
    """The canceled code is still in its 10 ms step when the next request arrives."""
    async with served(load("http_sleep_steps").Predictor) as (client, app):
        started = await client.put(
            "/predictions/c1", json={"input": {"seconds": 30}}, headers=ASYNC
        )
        runtime = app.state.runtime
        await until(lambda: runtime.get("c1").status == "processing")
        canceled = await client.post("/predictions/c1/cancel")
        after = await client.post("/predictions", json={"input": {"seconds": 0}})
    assert started.status_code == 202
    assert canceled.status_code == 200
    assert (after.status_code, after.json()["status"]) == (200, "succeeded")


async def test_a_busy_slot_is_still_409_at_once_and_a_stuck_cancel_after_the_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only a canceled prediction is waited for, and only for ``CANCELED_SLOT_WAIT``."""
    monkeypatch.setattr(slot_wait, "CANCELED_SLOT_WAIT", 0.05)
    module = load("http_gate")  # predict() blocks in Lock.acquire: a cancel cannot land
    try:
        async with served(module.Predictor) as (client, app):
            await client.put("/predictions/g1", json={"input": {}}, headers=ASYNC)
            await until(module.STARTED.is_set)
            busy = await client.post("/predictions", json={"input": {}})
            app.state.runtime.cancel("g1")
            stuck = await client.post("/predictions", json={"input": {}})
            module.RELEASE.set()
            await asyncio.wait_for(app.state.runtime.get("g1").wait(), 10)
    finally:
        module.RELEASE.set()
    assert busy.status_code == stuck.status_code == 409


# -- real servers: the client's leaving reaches the slot before its retry does ----------


SLEEPY = "http_sleep_steps.py:Predictor"


def read_until_eof(sock: socket.socket) -> bytes:
    """Everything the server writes until it closes (bounded by the socket timeout)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def answer(server: Server, request: bytes) -> tuple[int, dict[str, Any]]:
    """Status and JSON body of one request on a fresh connection (``Connection: close``)."""
    with socket.create_connection(server.address, timeout=10) as sock:
        sock.sendall(request.replace(b"Host: cogrt\r\n", b"Host: cogrt\r\nConnection: close\r\n"))
        raw = read_until_eof(sock)
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def test_a_retry_right_after_a_disconnect_is_never_refused(http: str) -> None:
    with running(SLEEPY, http=http) as server:
        for _ in range(10):
            with socket.create_connection(server.address, timeout=10) as gone:
                gone.sendall(raw_post(60))
                server.wait_status("BUSY")
            status, body = answer(server, raw_post(0))  # at once: no wait for READY
            assert (status, body["status"]) == (200, "succeeded")


def test_a_half_close_is_a_disconnect_on_both_servers(http: str) -> None:
    """``shutdown(SHUT_WR)`` sends the FIN a ``close()`` sends: the server cannot tell them
    apart without writing, so both cancel, and the slot is free for the next request."""
    with (
        running(SLEEPY, http=http) as server,
        socket.create_connection(server.address, timeout=10) as half,
    ):
        half.sendall(raw_post(60))
        server.wait_status("BUSY")
        half.shutdown(socket.SHUT_WR)
        status, body = answer(server, raw_post(0))
        written = read_until_eof(half)  # uvicorn closes at once, hypercorn writes the 499
    assert (status, body["status"]) == (200, "succeeded")
    assert written == b"" or written.startswith(b"HTTP/1.1 499 ")


async def test_a_queued_request_whose_client_leaves_after_it_started_cancels_it() -> None:
    """The watcher from its time in the queue goes on for its prediction, which is canceled."""
    app = create_app(load("http_sleep_steps").Predictor, queue=1)
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime
        assert await runtime.wait_setup(30) == "READY"
        holder = runtime.start(runtime.decode_request(b'{"id":"hold","input":{"seconds":30}}'))
        gone = asyncio.Event()
        body = [{"type": "http.request", "body": b'{"id":"q1","input":{"seconds":30}}'}]

        async def receive() -> dict[str, Any]:
            if body:
                return body.pop()
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            pass

        handler = asyncio.ensure_future(app(dict(SCOPE), receive, send))
        await until(lambda: runtime.queue_length == 1)
        holder.cancel()
        await until(lambda: runtime.get("q1") is not None)
        queued = runtime.get("q1")
        await until(lambda: queued.status == "processing")
        assert len([t for t in asyncio.all_tasks() if "_call_on_disconnect" in repr(t)]) == 1
        gone.set()
        await asyncio.wait_for(handler, 10)
        await asyncio.wait_for(queued.wait(), 10)
        assert queued.status == "canceled"
        assert runtime.status == "READY"
        assert not [task for task in asyncio.all_tasks() if "_call_on_disconnect" in repr(task)]


async def test_a_stopped_watcher_leaves_no_reference_cycle() -> None:
    """Stopping the watcher must not leave garbage for the collector, once per request.

    A watcher that ended as a cancelled task kept its ``CancelledError``,
    whose traceback held the watcher's frame, which held the ``Watching``
    that held the task: a cycle per request, about 30 objects with the
    prediction it reached, that only a collection frees.
    """
    messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()  # hypercorn's receive is one
    left: list[bool] = []
    watching = Watching(messages.get)
    watching.start(lambda: left.append(True))
    await asyncio.sleep(0)  # the watcher waits in receive()
    (task,) = asyncio.all_tasks() - {asyncio.current_task()}
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        watching.stop()
        del watching
        await asyncio.wait({task})
        del task
        gc.collect()
        kinds = {type(thing).__name__ for thing in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert not kinds & {"Watching", "CancelledError", "frame", "Task"}
    assert not left  # stopping is not the client leaving
