"""The txtar harness's helper servers: a webhook receiver and an upload target, on loopback.

They answer as Cog's Go harness does (``integration-tests/harness``): the
webhook receiver keeps the first terminal prediction it is sent, summarised
as ``{"status", "output_size", "has_error", "error_message", "metrics"}``;
the upload target counts PUTs and answers each with a ``Location`` header.
"""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any

__all__ = ["UploadTarget", "WebhookReceiver"]

TERMINAL = ("succeeded", "failed", "canceled")


class _Server:
    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler], host: str) -> None:
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self._server.server_address[1]
        self.base = f"http://{host}:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class WebhookReceiver(_Server):
    """Keeps the first terminal webhook; ``wait`` returns its summary."""

    def __init__(self, host: str) -> None:
        self.result: dict[str, Any] | None = None
        self._done = threading.Event()
        receiver = self

        class Handler(_Quiet):
            def do_POST(self) -> None:
                try:
                    payload = json.loads(self.rfile.read(int(self.headers["content-length"])))
                except (TypeError, ValueError):
                    self._answer(400)
                    return
                self._answer(200)
                receiver.received(payload)

        super().__init__(Handler, host)
        self.url = self.base + "/webhook"

    def received(self, payload: dict[str, Any]) -> None:
        if payload.get("status") not in TERMINAL or self._done.is_set():
            return
        output = payload.get("output")
        compact = json.dumps(output, separators=(",", ":"))
        size = len(output) if isinstance(output, str) else len(compact)
        summary: dict[str, Any] = {
            "status": payload["status"],
            "output_size": size,
            "has_error": bool(payload.get("error")),
        }
        if payload.get("error"):
            summary["error_message"] = payload["error"]
        if payload.get("metrics") is not None:
            summary["metrics"] = payload["metrics"]
        self.result = summary
        self._done.set()

    def wait(self, timeout: float) -> dict[str, Any] | None:
        return self.result if self._done.wait(timeout) else None


class UploadTarget(_Server):
    """Accepts PUTs and counts them."""

    def __init__(self, host: str) -> None:
        self.uploads: list[str] = []
        target = self

        class Handler(_Quiet):
            def do_PUT(self) -> None:
                _read_body(self)
                target.uploads.append(self.path)
                self.send_response(200)
                self.send_header("Location", f"{target.base}{self.path}")
                self.send_header("Content-Length", "0")
                self.end_headers()

        super().__init__(Handler, host)
        self.url = self.base + "/"


class _Quiet(http.server.BaseHTTPRequestHandler):
    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _read_body(handler: http.server.BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("transfer-encoding", "").lower() != "chunked":
        return handler.rfile.read(int(handler.headers.get("content-length") or 0))
    body = b""
    while size := int(handler.rfile.readline().strip(), 16):
        body += handler.rfile.read(size)
        handler.rfile.readline()
    handler.rfile.readline()
    return body
