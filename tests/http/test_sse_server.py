"""SSE against a real ``python -m cogrt`` over loopback, the way Cog's harness drives it.

Nothing here is timed. Where the order of events matters, the predictor
(``sse_stepped``) makes each chunk only when the test sends it a byte over a
loopback socket, and every read has a deadline. Time to first token and
tokens/s are benchmark figures (``sse1000`` in benchmarks/).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.support.server_process import running
from tests.support.sse_client import SSE, names, parse

TRUNCATED = (
    b"event: error\n"
    b'data: {"error":"SSE stream replay truncated; events were dropped","skipped":3}\n\n'
)
ASYNC = {"prefer": "respond-async"}


class Gate:
    """The test's end of ``sse_stepped``'s socket: each byte sent lets one chunk be made."""

    def __init__(self, listener: socket.socket) -> None:
        self._listener = listener
        self._connection: socket.socket | None = None

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    def accept(self) -> None:
        """Wait (bounded) for the predictor to connect: ``predict()`` is running."""
        self._connection, _ = self._listener.accept()

    def release(self, chunks: int = 1) -> None:
        assert self._connection is not None
        self._connection.sendall(b"." * chunks)

    def finish(self) -> None:
        """Close the test's end: the predictor returns after the chunks already released."""
        if self._connection is not None:
            self._connection.close()


@contextmanager
def gate() -> Iterator[Gate]:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(10)
        opened = Gate(listener)
        try:
            yield opened
        finally:
            opened.finish()


def read_until(chunks: Iterator[bytes], seen: bytes, done: Callable[[bytes], bool]) -> bytes:
    """Read the stream until ``done(seen)``; each read is bounded by the client's timeout."""
    while not done(seen):
        seen += next(chunks)
    return seen


def outputs_complete(count: int) -> Callable[[bytes], bool]:
    """True once ``count`` output frames have arrived whole."""
    return lambda seen: seen.count(b"event: output") >= count and seen.endswith(b"\n\n")


def wait_outputs(client: httpx.Client, url: str, body: dict[str, object], count: int) -> None:
    """Poll the in-flight snapshot (a PUT on a running id is 202) until ``count`` outputs."""
    deadline = time.monotonic() + 10
    while True:
        snapshot = client.put(url, json=body)
        assert snapshot.status_code == 202, snapshot.text
        if len(snapshot.json()["output"] or []) >= count:
            return
        assert time.monotonic() < deadline, f"outputs stayed at {snapshot.json()['output']}"
        time.sleep(0.01)


@pytest.mark.parametrize("http", ["hypercorn", "uvicorn"])
def test_1000_tokens_stream_over_loopback_with_prompt_flushes(http: str) -> None:
    with (
        running("sse_tokens.py:Predictor", http=http) as server,
        httpx.Client(timeout=10) as client,
    ):
        for _ in range(3):
            body = b""
            with client.stream(
                "POST", f"{server.url}/predictions", json={"input": {"n": 1000}}, headers=SSE
            ) as response:
                assert response.status_code == 200
                assert response.headers["content-type"] == "text/event-stream"
                for chunk in response.iter_raw():
                    body += chunk
            events = parse(body)
            assert names(events) == ["start"] + ["output"] * 1000 + ["completed"]
            assert [d["chunk"] for n, d in events if n == "output"] == [
                f"tok-{i}" for i in range(1000)
            ]
            assert events[-1][1]["output"] == [f"tok-{i}" for i in range(1000)]


@pytest.mark.parametrize("http", ["hypercorn", "uvicorn"])
def test_5000_token_burst_arrives_whole_over_loopback(http: str) -> None:
    """Batches of up to 1024 chunks can pile up before the writer runs; a client
    reading at loopback speed still gets every token, never the lagged error."""
    with (
        running("sse_tokens.py:Predictor", http=http) as server,
        httpx.Client(timeout=10) as client,
    ):
        for _ in range(5):
            body = b""
            with client.stream(
                "POST", f"{server.url}/predictions", json={"input": {"n": 5000}}, headers=SSE
            ) as response:
                assert response.status_code == 200
                for chunk in response.iter_raw():
                    body += chunk
            events = parse(body)
            assert names(events) == ["start"] + ["output"] * 5000 + ["completed"]
            assert [d["chunk"] for n, d in events if n == "output"] == [
                f"tok-{i}" for i in range(5000)
            ]
            assert events[-1][1]["status"] == "succeeded"
            assert events[-1][1]["output"] == [f"tok-{i}" for i in range(5000)]


@pytest.mark.parametrize("http", ["hypercorn", "uvicorn"])
def test_each_chunk_reaches_the_client_before_the_next_is_made(http: str) -> None:
    """Chunk i+1 is made only once the test has read chunk i off the socket, so each
    one must go out alone as soon as it is yielded; a server that held chunks back
    would leave the test's bounded read waiting for one that never comes."""
    with (
        running("sse_stepped.py:Predictor", http=http) as server,
        httpx.Client(timeout=10) as client,
        gate() as chunks_gate,
    ):
        body = {"input": {"port": chunks_gate.port}}
        with client.stream("POST", f"{server.url}/predictions", json=body, headers=SSE) as r:
            assert r.status_code == 200
            stream = r.iter_raw()
            chunks_gate.accept()
            seen = b""
            for i in range(20):
                chunks_gate.release()
                seen = read_until(stream, seen, outputs_complete(i + 1))
                assert names(parse(seen)) == ["start"] + ["output"] * (i + 1)
            chunks_gate.finish()
            for rest in stream:
                seen += rest
        events = parse(seen)
        assert names(events) == ["start"] + ["output"] * 20 + ["completed"]
        assert [d["chunk"] for n, d in events if n == "output"] == [f"chunk-{i}" for i in range(20)]


def test_replay_truncated_then_close_as_cog_tests_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COG_STREAM_HISTORY_CAPACITY", "2")
    with (
        running("sse_stepped.py:Predictor") as server,
        httpx.Client(timeout=10) as client,
        gate() as chunks_gate,
    ):
        url = f"{server.url}/predictions/replay-truncated"
        body = {"id": "replay-truncated", "input": {"port": chunks_gate.port}}
        created = client.put(url, json=body, headers=ASYNC)
        assert b'"status":"starting"' in created.content
        chunks_gate.accept()
        chunks_gate.release(4)
        wait_outputs(client, url, body, 4)
        # The prediction cannot end before the gate closes: an answer at all means the
        # attach was closed at once, not held until the end (the read is bounded).
        attach = client.put(url, json=body, headers=SSE)
        assert attach.content == TRUNCATED
        assert client.put(url, json=body).status_code == 202  # still running


def test_history_disabled_attach_sees_completed_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COG_STREAM_HISTORY_CAPACITY", "0")
    with (
        running("sse_stepped.py:Predictor") as server,
        httpx.Client(timeout=10) as client,
        gate() as chunks_gate,
    ):
        url = f"{server.url}/predictions/replay-disabled"
        body = {"id": "replay-disabled", "input": {"port": chunks_gate.port}}
        assert client.put(url, json=body, headers=ASYNC).status_code == 202
        chunks_gate.accept()
        chunks_gate.release(3)
        wait_outputs(client, url, body, 3)
        with client.stream("PUT", url, json=body, headers=SSE) as attach:
            assert attach.status_code == 200  # subscribed: the prediction may end now
            chunks_gate.finish()
            content = attach.read()
        assert names(parse(content)) == ["completed"]
        assert b'"status":"succeeded"' in content
        assert b"event: output" not in content
        assert b"SSE stream replay truncated" not in content


def test_leaving_an_sse_created_prediction_cancels_it() -> None:
    with (
        running("sse_stepped.py:Predictor") as server,
        httpx.Client(timeout=10) as client,
        gate() as left,
        gate() as next_one,
    ):
        body = {"input": {"port": left.port}}
        with client.stream("POST", f"{server.url}/predictions", json=body, headers=SSE) as r:
            left.accept()
            left.release()
            read_until(r.iter_raw(), b"", outputs_complete(1))
        # Its gate stays open and silent: the prediction could hold the only slot for
        # good. Only the cancel from leaving frees it (the wait is bounded).
        server.wait_status("READY", client=client)
        follow_up = {"input": {"port": next_one.port}}
        accepted = client.post(f"{server.url}/predictions", json=follow_up, headers=ASYNC)
        assert accepted.status_code == 202  # the slot is free, not a 409
        next_one.accept()
