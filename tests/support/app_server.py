"""An app from ``create_app`` under a real hypercorn or uvicorn, in the test's own loop.

For tests that need both a real server and the app's in-process state (a
gate a predictor waits on, an in-memory span exporter): ``serve_app`` on a
bound ``127.0.0.1:0`` socket, stopped through its shutdown trigger.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette

from cogrt.http.server import bind_socket, serve_app


@asynccontextmanager
async def app_server(app: Starlette, http: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client for ``app`` served by ``http``, once it reports READY (bounded)."""
    sock = bind_socket("127.0.0.1", 0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    stop = asyncio.Event()
    serving = serve_app(app, sock, http=http, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
    task = asyncio.ensure_future(serving)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            deadline = asyncio.get_running_loop().time() + 30
            while await _status(client) != "READY":
                assert not task.done(), "the server stopped before it was ready"
                assert asyncio.get_running_loop().time() < deadline, "server never READY"
                await asyncio.sleep(0.01)
            yield client
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def _status(client: httpx.AsyncClient) -> str:
    try:
        return str((await client.get("/health-check")).json()["status"])
    except httpx.TransportError:
        return "unreachable"
