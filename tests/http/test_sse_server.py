"""SSE against a real ``python -m cogrt`` over loopback, the way Cog's harness drives it."""

from __future__ import annotations

import time

import httpx
import pytest

from .server_process import running
from .sse_client import SSE, names, parse

TRUNCATED = (
    b"event: error\n"
    b'data: {"error":"SSE stream replay truncated; events were dropped","skipped":3}\n\n'
)
ASYNC = {"prefer": "respond-async"}


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
        for round_ in range(3):
            started = time.perf_counter()
            first_token = None
            body = b""
            with client.stream(
                "POST", f"{server.url}/predictions", json={"input": {"n": 1000}}, headers=SSE
            ) as response:
                assert response.status_code == 200
                assert response.headers["content-type"] == "text/event-stream"
                for chunk in response.iter_raw():
                    body += chunk
                    if first_token is None and b'"index":0}' in body:
                        first_token = time.perf_counter() - started
            total = time.perf_counter() - started
            events = parse(body)
            assert names(events) == ["start"] + ["output"] * 1000 + ["completed"]
            assert [d["chunk"] for n, d in events if n == "output"] == [
                f"tok-{i}" for i in range(1000)
            ]
            assert events[-1][1]["output"] == [f"tok-{i}" for i in range(1000)]
            assert first_token is not None
            print(
                f"\nSSE over {http} round {round_}: first token {first_token * 1e3:.2f} ms, "
                f"stream closed after {total * 1e3:.2f} ms"
            )


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


def test_paced_tokens_are_flushed_one_by_one() -> None:
    """Tokens 10 ms apart reach the client as they are produced, not at the end."""
    with running("sse_sleep_after.py:Predictor") as server, httpx.Client(timeout=10) as client:
        body = {"input": {"count": 20, "sleep_after": 0, "sleep_between": 0.01}}
        arrivals: list[float] = []
        seen = b""
        with client.stream("POST", f"{server.url}/predictions", json=body, headers=SSE) as r:
            for chunk in r.iter_raw():
                seen += chunk
                while len(arrivals) < seen.count(b"event: output"):
                    arrivals.append(time.perf_counter())
        assert names(parse(seen)) == ["start"] + ["output"] * 20 + ["completed"]
        assert arrivals[-1] - arrivals[0] > 0.1  # spread out, not one batch at the close


def test_replay_truncated_then_close_as_cog_tests_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COG_STREAM_HISTORY_CAPACITY", "2")
    with running("sse_sleep_after.py:Predictor") as server, httpx.Client(timeout=10) as client:
        url = f"{server.url}/predictions/replay-truncated"
        body = {"id": "replay-truncated", "input": {"count": 4, "sleep_after": 5}}
        created = client.put(url, json=body, headers=ASYNC)
        assert b'"status":"starting"' in created.content
        wait_outputs(client, url, body, 4)
        started = time.monotonic()
        attach = client.put(url, json=body, headers=SSE)
        assert time.monotonic() - started < 2  # closed at once, long before the 5 s sleep
        assert attach.content == TRUNCATED
        client.post(f"{url}/cancel")


def test_history_disabled_attach_sees_completed_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COG_STREAM_HISTORY_CAPACITY", "0")
    with running("sse_sleep_after.py:Predictor") as server, httpx.Client(timeout=10) as client:
        url = f"{server.url}/predictions/replay-disabled"
        body = {"id": "replay-disabled", "input": {"count": 3, "sleep_after": 1}}
        assert client.put(url, json=body, headers=ASYNC).status_code == 202
        wait_outputs(client, url, body, 3)
        attach = client.put(url, json=body, headers=SSE)
        assert names(parse(attach.content)) == ["completed"]
        assert b'"status":"succeeded"' in attach.content
        assert b"event: output" not in attach.content
        assert b"SSE stream replay truncated" not in attach.content


def test_leaving_an_sse_created_prediction_cancels_it() -> None:
    with running("sse_sleep_after.py:Predictor") as server, httpx.Client(timeout=10) as client:
        body = {"input": {"count": 1000, "sleep_after": 0, "sleep_between": 0.01}}
        with client.stream("POST", f"{server.url}/predictions", json=body, headers=SSE) as r:
            for chunk in r.iter_raw():
                if b"event: output" in chunk:
                    break
        # 1000 × 10 ms would hold the only slot for 10 s; canceled, it is free at once.
        server.wait_status("READY", timeout=3, client=client)
        assert client.post(
            f"{server.url}/predictions", json={"input": {"count": 1, "sleep_after": 0}}
        ).json()["output"] == ["chunk-0"]
