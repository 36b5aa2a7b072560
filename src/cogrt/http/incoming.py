"""What a request brings: its body (bounded), how it wants its answer, its app's runtime."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request

from cogrt.runner.prediction import Delivery
from cogrt.runner.runtime import Runtime

__all__ = ["read_body", "requested_delivery", "runtime_of"]


async def read_body(request: Request, limit: int) -> bytes | None:
    """The body, or ``None`` once it exceeds ``limit`` (nothing past it is buffered)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    # Straight from the ASGI channel: Request.stream()'s async generator cost
    # more than the rest of reading a small body.
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def requested_delivery(request: Request) -> Delivery:
    """SSE if ``Accept`` lists text/event-stream, async on ``Prefer: respond-async`` (§11.2)."""
    accept = ",".join(request.headers.getlist("accept")).lower()
    if "text/event-stream" in accept and any(
        part.split(";", 1)[0].strip() == "text/event-stream" for part in accept.split(",")
    ):
        return "sse"
    prefer = ",".join(request.headers.getlist("prefer")).lower()
    if "respond-async" in prefer and any(
        token.strip() == "respond-async" for token in prefer.replace(";", ",").split(",")
    ):
        return "async"
    return "sync"


def runtime_of(request: Request) -> Runtime:
    """The ``Runtime`` of the app serving ``request``."""
    runtime: Runtime = request.app.state.runtime
    return runtime
