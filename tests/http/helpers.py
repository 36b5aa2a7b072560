"""In-process harness: a real app and lifespan, driven through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from starlette.applications import Starlette

from cogrt.http.app import create_app
from cogrt.runner.loader import load_module

PREDICTORS = Path(__file__).parent / "predictors"


def load(name: str) -> ModuleType:
    """Import ``predictors/<name>.py`` fresh, so its events belong to this test."""
    return load_module(PREDICTORS / f"{name}.py")


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


def raw_post(seconds: float) -> bytes:
    """A whole ``POST /predictions`` for the ``sleep``-style predictors, as raw HTTP/1.1 bytes."""
    payload = f'{{"input":{{"seconds":{seconds}}}}}'.encode()
    return (
        b"POST /predictions HTTP/1.1\r\nHost: cogrt\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
