"""In-process harnesses: a Runtime with setup done, or the app with its lifespan entered.

The app is driven through httpx's ASGI transport: no socket, no server, the
test's own loop. ``server_process`` has the real-server counterpart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette

from cogrt.http.app import create_app
from cogrt.runner.runtime import Runtime


@asynccontextmanager
async def running(predictor: Any, **kwargs: Any) -> AsyncIterator[Runtime]:
    """A ``Runtime`` whose setup has finished (bounded), closed on the way out."""
    async with Runtime(predictor, **kwargs) as runtime:
        await runtime.wait_setup(30)
        yield runtime


@asynccontextmanager
async def served(
    predictor: Any, *, wait_ready: bool = True, **kwargs: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Starlette]]:
    """The app with its lifespan entered (setup awaited unless ``wait_ready=False``)."""
    app = create_app(predictor, **kwargs)
    async with app.router.lifespan_context(app):
        if wait_ready:
            assert await app.state.runtime.wait_setup(30) == "READY"
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cogrt") as client:
            yield client, app
