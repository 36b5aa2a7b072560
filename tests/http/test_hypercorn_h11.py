"""hypercorn serves HTTP/1.1 without loading h2 or wsproto; upgrades still work as before."""

from __future__ import annotations

import base64
import socket

import httpx

from cogrt.http.hypercorn_h11 import DEFERRED
from tests.support.server_process import Server, running

LOADED = "http_loaded_modules.py:Predictor"
HEAVY = ",".join([*DEFERRED, "h2.connection", "hpack", "wsproto"])
WS_KEY = base64.b64encode(b"cogrt-test-nonce").decode()


def loaded(server: Server) -> set[str]:
    """The heavy modules the server process has imported so far."""
    response = httpx.post(f"{server.url}/predictions", json={"input": {"names": HEAVY}})
    return set(filter(None, response.json()["output"].split(",")))


def websocket_handshake(server: Server) -> bytes:
    """Send a WebSocket upgrade to ``/`` and return the response head."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"GET / HTTP/1.1\r\nHost: cogrt\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + f"Sec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, f"connection closed after {head!r}"
            head += chunk
    return head


def test_http1_requests_load_neither_http2_nor_websockets() -> None:
    with running(LOADED) as server:
        assert httpx.get(f"{server.url}/health-check").json()["status"] == "READY"
        assert loaded(server) == set()


def test_http2_with_prior_knowledge_is_served_after_loading_h2() -> None:
    with running(LOADED) as server, httpx.Client(http1=False, http2=True) as client:
        response = client.get(f"{server.url}/health-check")
        assert response.http_version == "HTTP/2"
        assert response.json()["status"] == "READY"
        assert {"h2.connection", "hypercorn.protocol.h2"} <= loaded(server)


def test_websocket_upgrade_is_refused_by_the_app_as_before() -> None:
    """Cog's API has no websocket route: hypercorn's WSStream answers the app's close with 403."""
    with running(LOADED) as server:
        head = websocket_handshake(server)
        assert head.startswith(b"HTTP/1.1 403"), head
        assert {"wsproto", "hypercorn.protocol.ws_stream"} <= loaded(server)
