"""User middleware sees every request: the direct routes included, on both servers, mounted too.

``CogApp`` answers ``POST /predictions`` and ``GET /health-check`` past
Starlette's stack only while that stack has nothing of the user's in it; an
app with an auth middleware must never serve a prediction without the token.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp

from cogrt.http.app import CogApp, create_app
from tests.support import auth_server
from tests.support.auth_server import AUTH, MIDDLEWARE, REFUSED
from tests.support.predictors import HTTP
from tests.support.server_process import spawned

load = HTTP.load

ROUTES: list[tuple[str, str, dict[str, Any] | None, int]] = [
    # method, path, JSON body, status with the token (the /shutdown last: it stops admission)
    ("GET", "/", None, 200),
    ("GET", "/health-check", None, 200),
    ("GET", "/openapi.json", None, 200),
    ("POST", "/predictions", {"input": {"text": "hi"}}, 200),
    ("PUT", "/predictions/p1", {"input": {"text": "hi"}}, 200),
    ("POST", "/predictions/p1/cancel", None, 404),
    ("POST", "/trainings", {"input": {"steps": 2}}, 200),
    ("PUT", "/trainings/t1", {"input": {"steps": 2}}, 200),
    ("POST", "/trainings/t1/cancel", None, 404),
    ("POST", "/shutdown", None, 200),
]


@pytest.fixture(params=sorted(MIDDLEWARE))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def app_with(kind: str) -> CogApp:
    trainer = load("http_trainer").Predictor
    app = create_app(trainer, train=trainer)
    app.add_middleware(MIDDLEWARE[kind])
    return app


@asynccontextmanager
async def lifespan_of(app: CogApp) -> AsyncIterator[None]:
    async with app.router.lifespan_context(app):
        assert await app.state.runtime.wait_setup(30) == "READY"
        yield


async def check_every_route(client: httpx.AsyncClient, prefix: str = "") -> None:
    """Without the token every route is 401; with it, each answers as usual."""
    for method, path, body, _ in ROUTES:
        refused = await client.request(method, prefix + path, json=body)
        assert (refused.status_code, refused.json()) == (401, REFUSED), (method, path)
    for method, path, body, status in ROUTES:
        allowed = await client.request(method, prefix + path, json=body, headers=AUTH)
        assert allowed.status_code == status, (method, path, allowed.text)


def client_for(app: ASGIApp, root_path: str = "") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, root_path=root_path)
    return httpx.AsyncClient(transport=transport, base_url="http://cogrt")


async def test_every_route_goes_through_user_middleware(kind: str) -> None:
    app = app_with(kind)
    async with lifespan_of(app), client_for(app) as client:
        await check_every_route(client)


async def test_middleware_of_a_mounted_app_sees_every_route(kind: str) -> None:
    app = app_with(kind)
    outer = Starlette(routes=[Mount("/cog", app=app)])
    async with lifespan_of(app), client_for(outer) as client:
        await check_every_route(client, prefix="/cog")


async def test_middleware_sees_every_route_under_a_server_root_path(kind: str) -> None:
    """A server or proxy configured with ``root_path`` (uvicorn ``--root-path``)."""
    app = app_with(kind)
    async with lifespan_of(app), client_for(app, root_path="/cog") as client:
        await check_every_route(client, prefix="/cog")


class Counting:
    """Counts the requests ``ServerErrorMiddleware`` (the outermost of Starlette's stack) sees."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = ServerErrorMiddleware.__call__

        async def counted(middleware: Any, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                self.calls += 1
            await original(middleware, scope, receive, send)

        monkeypatch.setattr(ServerErrorMiddleware, "__call__", counted)


async def test_without_user_middleware_the_direct_routes_skip_the_stack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = Counting(monkeypatch)
    app = create_app(load("http_echo").Predictor)
    async with lifespan_of(app), client_for(app) as client:
        await client.get("/")  # the first call builds the stack (a server's lifespan call does)
        assert stack.calls == 1
        await client.post("/predictions", json={"input": {"text": "hi"}})
        await client.get("/health-check")
        assert stack.calls == 1
        await client.get("/")
        assert stack.calls == 2


async def plain_500(_request: Request, _exc: Exception) -> Response:
    return Response(status_code=500)


async def test_an_error_handler_turns_the_direct_path_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = Counting(monkeypatch)
    app = create_app(load("http_echo").Predictor)
    app.add_exception_handler(Exception, plain_500)
    async with lifespan_of(app), client_for(app) as client:
        await client.post("/predictions", json={"input": {"text": "hi"}})
    assert stack.calls == 1


# -- real servers ---------------------------------------------------------------------


SCRIPT = Path(auth_server.__file__)


def served_with(kind: str, http: str) -> Iterator[Any]:
    return spawned([sys.executable, str(SCRIPT), kind, http], headers=AUTH)


def test_a_real_server_runs_user_middleware_on_every_route(kind: str, http: str) -> None:
    with served_with(kind, http) as server, httpx.Client(timeout=10) as client:
        for method, path, body, _ in ROUTES:
            refused = client.request(method, server.url + path, json=body)
            assert (refused.status_code, refused.json()) == (401, REFUSED), (method, path)
        for method, path, body, status in ROUTES:
            allowed = client.request(method, server.url + path, json=body, headers=AUTH)
            assert allowed.status_code == status, (method, path, allowed.text)
        assert server.process.wait(30) == 0  # the authorized POST /shutdown stopped it
