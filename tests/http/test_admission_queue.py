"""The opt-in admission queue (``--queue N``) and cheap refusals, on real servers (both).

A 30-second async prediction holds the one slot; the test cancels it to free the
slot, so nothing waits on a clock except ``--queue-timeout`` itself.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import httpx
import pytest

from tests.http.test_server import post_in_thread, read_response
from tests.support.metrics_page import Page
from tests.support.server_process import Server, raw_post, running

SLEEPY = "http_sleep_steps.py:Predictor"
ASYNC = {"prefer": "respond-async"}
HOLD = {"id": "hold", "input": {"seconds": 30}}


def hold_the_slot(server: Server, client: httpx.Client) -> None:
    held = client.post(f"{server.url}/predictions", json=HOLD, headers=ASYNC)
    assert held.status_code == 202, held.text


def free_the_slot(server: Server, client: httpx.Client) -> None:
    assert client.post(f"{server.url}/predictions/hold/cancel").status_code == 200


def health(server: Server, client: httpx.Client) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"{server.url}/health-check").json()
    return body


def wait_queue_length(server: Server, client: httpx.Client, length: int) -> None:
    deadline = time.monotonic() + 10
    while (now := health(server, client)["queue"]["length"]) != length:
        assert time.monotonic() < deadline, f"queue length stayed {now}, wanted {length}"
        time.sleep(0.005)


def test_queued_requests_run_in_arrival_order_and_a_full_queue_refuses(http: str) -> None:
    with running(SLEEPY, "--queue", "3", http=http) as server, httpx.Client(timeout=10) as client:
        hold_the_slot(server, client)
        assert health(server, client)["status"] == "READY"  # the queue has room: send more
        waiting = []
        for n, name in enumerate("abc", start=1):
            waiting.append(post_in_thread(server.url, {"id": name, "input": {"seconds": 0}}))
            wait_queue_length(server, client, n)
        assert health(server, client)["queue"] == {"length": 3, "max": 3}
        assert health(server, client)["status"] == "BUSY"  # the queue is full
        refused = client.post(f"{server.url}/predictions", json={"input": {"seconds": 0}})
        assert refused.status_code == 409
        free_the_slot(server, client)
        for thread, _ in waiting:
            thread.join(30)
        answers = [results[0] for _, results in waiting]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [a.json()["status"] for a in answers] == ["succeeded"] * 3
        started = [a.json()["started_at"] for a in answers]
        assert started == sorted(started)
        assert health(server, client)["queue"] == {"length": 0, "max": 3}
        assert health(server, client)["status"] == "READY"


def test_a_client_that_leaves_the_queue_is_not_run(http: str) -> None:
    with running(SLEEPY, "--queue", "2", http=http) as server, httpx.Client(timeout=10) as client:
        hold_the_slot(server, client)
        with socket.create_connection(server.address, timeout=5) as sock:
            sock.sendall(raw_post(0))
            wait_queue_length(server, client, 1)
        wait_queue_length(server, client, 0)  # its client closed the connection
        thread, results = post_in_thread(server.url, {"id": "after", "input": {"seconds": 0}})
        wait_queue_length(server, client, 1)
        free_the_slot(server, client)
        thread.join(30)
        assert results[0].status_code == 200
        assert results[0].json()["status"] == "succeeded"


def test_a_queued_request_that_waits_too_long_gets_409(http: str) -> None:
    args = ("--queue", "1", "--queue-timeout", "0.2")
    with running(SLEEPY, *args, http=http) as server, httpx.Client(timeout=10) as client:
        hold_the_slot(server, client)
        refused = client.post(f"{server.url}/predictions", json={"input": {"seconds": 0}})
        assert refused.status_code == 409
        assert refused.json()["error"] == "At capacity - all prediction slots busy"
        assert health(server, client)["queue"] == {"length": 0, "max": 1}


def test_without_a_queue_health_has_no_queue_and_busy_refuses(http: str) -> None:
    with running(SLEEPY, http=http) as server, httpx.Client(timeout=10) as client:
        hold_the_slot(server, client)
        body = health(server, client)
        assert "queue" not in body
        assert body["status"] == "BUSY"
        # Certain refusal: the input is not validated (a bad one would be 422 when idle)...
        bad = client.post(f"{server.url}/predictions", json={"input": {"seconds": "x"}})
        assert bad.status_code == 409
        # ...but a body naming the running prediction still gets it back (§11.3).
        same = client.post(f"{server.url}/predictions", json=HOLD)
        assert same.status_code == 202
        assert same.json()["id"] == "hold"
        assert client.put(f"{server.url}/predictions/hold", json=HOLD).status_code == 202
        # A body that is not JSON is still 400, before the 409.
        assert client.post(f"{server.url}/predictions", content=b"{").status_code == 400


def test_a_refused_request_leaves_its_keep_alive_connection_usable(http: str) -> None:
    with running(SLEEPY, http=http) as server, httpx.Client(timeout=10) as client:
        hold_the_slot(server, client)
        payload = b'{"input":{"seconds":0,"pad":"' + b"x" * 65536 + b'"}}'
        request = (
            b"POST /predictions HTTP/1.1\r\nHost: cogrt\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        with socket.create_connection(server.address, timeout=10) as sock:
            for _ in range(3):
                sock.sendall(request)
                head, _ = read_response(sock)
                assert head.startswith(b"HTTP/1.1 409"), head
            sock.sendall(b"GET /health-check HTTP/1.1\r\nHost: cogrt\r\n\r\n")
            head, body = read_response(sock)
            assert head.startswith(b"HTTP/1.1 200"), head
            assert b'"BUSY"' in body


def test_the_queue_size_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COGRT_QUEUE", "5")
    with running(SLEEPY) as server, httpx.Client(timeout=10) as client:
        assert health(server, client)["queue"] == {"length": 0, "max": 5}


def test_the_metrics_show_the_queue_and_the_wait_in_it(http: str) -> None:
    with running(SLEEPY, "--queue", "2", http=http) as server, httpx.Client(timeout=10) as client:
        hold_the_slot(server, client)
        thread, results = post_in_thread(server.url, {"input": {"seconds": 0}})
        wait_queue_length(server, client, 1)
        queued = Page(client.get(f"{server.url}/metrics").text)
        free_the_slot(server, client)
        thread.join(30)
        after = Page(client.get(f"{server.url}/metrics").text)
    assert results[0].json()["status"] == "succeeded"
    assert queued.value("cogrt_queue_length") == 1
    assert after.value("cogrt_queue_length") == 0
    wait = {"phase": "queue_wait"}
    assert after.value("cogrt_prediction_phase_seconds_count", **wait) == 2  # both admitted
    assert after.value("cogrt_prediction_phase_seconds_sum", **wait) > 0  # one of them waited
