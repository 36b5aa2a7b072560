"""Real server processes: shutdown paths, client disconnects, and the two load criteria."""

from __future__ import annotations

import signal
import socket
import threading
from collections import Counter

import httpx

from tests.support.server_process import Server, raw_post, running

SLEEPY = "http_sleep_steps.py:Predictor"


def post_in_thread(
    url: str, body: dict[str, object]
) -> tuple[threading.Thread, list[httpx.Response]]:
    results: list[httpx.Response] = []

    def run() -> None:
        results.append(httpx.post(f"{url}/predictions", json=body, timeout=30))

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


def abandon_prediction(server: Server, seconds: float, client: httpx.Client | None = None) -> None:
    """Send a sync prediction on a raw socket and close it once the prediction runs."""
    payload = f'{{"input":{{"seconds":{seconds}}}}}'.encode()
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"POST /predictions HTTP/1.1\r\nHost: cogrt\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        server.wait_status("BUSY", client=client)


def test_sigterm_lets_in_flight_sync_request_finish(http: str) -> None:
    with running(SLEEPY, http=http) as server:
        thread, results = post_in_thread(server.url, {"input": {"seconds": 1.0}})
        server.wait_status("BUSY")
        server.process.send_signal(signal.SIGTERM)
        thread.join(30)
        assert server.process.wait(30) == 0
    assert results[0].status_code == 200
    assert results[0].json()["output"] == "slept 1.0"


def test_post_shutdown_exits_cleanly(http: str) -> None:
    with running(SLEEPY, http=http) as server:
        assert httpx.post(f"{server.url}/shutdown").content == b"{}"
        assert server.process.wait(30) == 0


def test_await_explicit_shutdown_ignores_sigterm(http: str) -> None:
    with running(SLEEPY, "--await-explicit-shutdown", "true", http=http) as server:
        server.process.send_signal(signal.SIGTERM)
        server.wait_for_output("ignoring SIGTERM")
        assert httpx.get(f"{server.url}/health-check").json()["status"] == "READY"
        assert server.process.poll() is None
        httpx.post(f"{server.url}/shutdown")
        assert server.process.wait(30) == 0


def test_sync_client_disconnect_cancels_and_frees_the_slot(http: str) -> None:
    with running(SLEEPY, http=http) as server:
        abandon_prediction(server, seconds=60)
        server.wait_status("READY", timeout=5)  # far below the 60 s the prediction wanted
        response = httpx.post(f"{server.url}/predictions", json={"input": {"seconds": 0}})
        assert response.json()["status"] == "succeeded"


def test_2000_sequential_keepalive_predictions_never_see_409(http: str) -> None:
    with running("http_echo.py:Predictor", http=http) as server, httpx.Client(timeout=10) as client:
        codes: Counter[int] = Counter()
        statuses: Counter[str] = Counter()
        for i in range(2000):
            response = client.post(f"{server.url}/predictions", json={"input": {"text": str(i)}})
            codes[response.status_code] += 1
            if response.status_code == 200:
                statuses[response.json()["status"]] += 1
        print(
            f"\n[{http}] 2000 sequential predictions: codes={dict(codes)} statuses={dict(statuses)}"
        )
    assert codes == Counter({200: 2000})
    assert statuses == Counter({"succeeded": 2000})


def test_500_abandoned_predictions_leave_every_slot_free(http: str) -> None:
    with running(SLEEPY, http=http) as server, httpx.Client(timeout=5) as client:
        for _ in range(500):
            server.wait_status("READY", timeout=5, client=client)
            abandon_prediction(server, seconds=60, client=client)
        server.wait_status("READY", timeout=5, client=client)
        response = client.post(f"{server.url}/predictions", json={"input": {"seconds": 0}})
        print(f"\n[{http}] 500 abandoned: health READY, next prediction {response.status_code}")
        assert response.json()["status"] == "succeeded"


def test_a_websocket_upgrade_is_answered_as_plain_http(http: str) -> None:
    """Cog's API has no websockets: hypercorn refuses the handshake (403), uvicorn runs
    without a websocket stack and answers the request as plain HTTP; both keep serving."""
    headers = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    with running(SLEEPY, http=http) as server:
        server.wait_status("READY")
        response = httpx.get(f"{server.url}/health-check", headers=headers, timeout=10)
        prediction = httpx.post(
            f"{server.url}/predictions", json={"input": {"seconds": 0}}, timeout=10
        )
    assert response.status_code == {"hypercorn": 403, "uvicorn": 200}[http]
    assert prediction.json()["status"] == "succeeded"


def read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    """One response (head, body) by its Content-Length, leaving the connection open."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed inside the body {body!r}"
        body += chunk
    return head, body


def test_after_sigterm_a_keep_alive_connection_gets_503_not_a_reset(http: str) -> None:
    with (
        running(SLEEPY, http=http) as server,
        socket.create_connection(server.address, timeout=10) as keep,
        socket.create_connection(server.address, timeout=10) as slow,
    ):
        keep.sendall(raw_post(0))
        head, body = read_response(keep)
        assert head.startswith(b"HTTP/1.1 200 ")
        slow.sendall(raw_post(60))  # keeps the server in its graceful phase
        server.wait_status("BUSY")
        server.process.send_signal(signal.SIGTERM)
        server.wait_for_output("SIGTERM received")
        keep.sendall(raw_post(0))
        head, body = read_response(keep)
        assert head.startswith(b"HTTP/1.1 503 ")
        assert b"\r\nconnection: close" in head.lower()
        assert body == b'{"error":"Server is shutting down","status":"failed"}'
        assert keep.recv(1) == b""  # closed after the answer, as announced
        slow.close()  # its prediction is canceled; nothing is in flight any more
        assert server.process.wait(30) == 0


def closed_by_server(sock: socket.socket) -> bool:
    """Read until the server closes the connection; False if the socket timeout passes first."""
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def test_a_client_that_never_finishes_its_headers_is_closed(http: str) -> None:
    """Slowloris: hypercorn closes after its keep-alive timeout, uvicorn after the deadline
    cogrt adds (5 s); the socket timeout is a generous bound, not a measurement."""
    openings = [b"", b"POST /predictions HT", b"GET /health-check HTTP/1.1\r\nHost: cogrt\r\n"]
    with running(SLEEPY, http=http) as server, httpx.Client(timeout=10) as client:
        slow = [socket.create_connection(server.address, timeout=30) for _ in openings]
        try:
            for sock, opening in zip(slow, openings):
                sock.sendall(opening)
            during = client.post(f"{server.url}/predictions", json={"input": {"seconds": 0}})
            assert [closed_by_server(sock) for sock in slow] == [True, True, True]
        finally:
            for sock in slow:
                sock.close()
        # A new connection: the pooled one idled as long as the slow ones, and the server
        # rightly closes an idle keep-alive connection after the same timeout.
        after = httpx.post(f"{server.url}/predictions", json={"input": {"seconds": 0}}, timeout=10)
    assert during.json()["status"] == after.json()["status"] == "succeeded"
