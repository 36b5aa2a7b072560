"""A real loopback HTTP server for download tests, in a thread of its own.

``download_inputs`` and ``URLFile`` are driven straight from the test, not
through a runtime, so the server must answer while the test's loop or thread
is blocked. ``gate`` and ``hang`` hold requests until the test sets them;
leaving ``serving_downloads`` sets both, so held handlers end with the test.

Routes: ``/files/<name>`` (body ``content of /files/<name>``), ``/redirect``,
``/loop`` (redirects to itself), ``/big-declared`` and ``/big-streamed``
(100 bytes, with and without a length), ``/gate/<n>`` (counts requests in
flight), ``/hang``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cogrt.transfer import files


@dataclass
class ServerState:
    base: str = ""
    user_agents: list[str | None] = field(default_factory=list)
    active: int = 0
    max_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    gate: threading.Event = field(default_factory=threading.Event)
    full: threading.Event = field(default_factory=threading.Event)
    """Set once ``files.MAX_PARALLEL_DOWNLOADS`` gated requests are in flight together."""
    hang: threading.Event = field(default_factory=threading.Event)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def do_GET(self) -> None:
        state: ServerState = self.server.state
        state.user_agents.append(self.headers.get("User-Agent"))
        route = self.path.split("?")[0]
        if route.startswith("/files/"):
            self.reply(200, b"content of " + route.encode())
        elif route == "/redirect":
            self.reply(302, b"", {"Location": "/files/redirected.txt"})
        elif route == "/loop":
            self.reply(302, b"", {"Location": "/loop"})
        elif route == "/big-declared":
            self.reply(200, b"x" * 100)
        elif route == "/big-streamed":
            self.close_connection = True
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"y" * 100)
        elif route.startswith("/gate/"):
            with state.lock:
                state.active += 1
                state.max_active = max(state.max_active, state.active)
                if state.active == files.MAX_PARALLEL_DOWNLOADS:
                    state.full.set()
            state.gate.wait(5)
            with state.lock:
                state.active -= 1
            self.reply(200, b"gated")
        elif route == "/hang":
            state.hang.wait(5)
            self.reply(200, b"late")
        else:
            self.reply(404, b"not found")

    def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # the default 5 drops parallel SYNs, costing 1 s retries
    state: ServerState

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up mid-response is expected here


@contextmanager
def serving_downloads() -> Iterator[ServerState]:
    """The server on 127.0.0.1:0; its state is how the test steers and reads it."""
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.state = ServerState(base=f"http://127.0.0.1:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd.state
    finally:
        httpd.state.gate.set()
        httpd.state.hang.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
