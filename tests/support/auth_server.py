"""Two auth middlewares (Starlette's ``BaseHTTPMiddleware`` and pure ASGI), and a server using one.

Imported by the in-process tests; run as a script, it serves a cogrt app
with one of them added (``add_middleware``) through ``serve_app``, so the
real-server tests see what an embedding application would:

    python auth_server.py {base,asgi} {hypercorn,uvicorn}

It is started in ``tests/http/predictors`` and logs ``cogrt serving on ...``
like ``python -m cogrt``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable

import msgspec
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

TOKEN = "Bearer s3cret"
AUTH = {"authorization": TOKEN}
REFUSED = {"error": "unauthorized"}
_REFUSED = msgspec.json.encode(REFUSED)


def _refusal() -> Response:
    return Response(_REFUSED, 401, media_type="application/json")


class BaseAuth(BaseHTTPMiddleware):
    """401 unless the request carries ``Authorization: Bearer s3cret``."""

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.headers.get("authorization") != TOKEN:
            return _refusal()
        return await call_next(request)


class AsgiAuth:
    """The same check as a pure ASGI middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (b"authorization", TOKEN.encode()) not in scope["headers"]:
            await _refusal()(scope, receive, send)
            return
        await self.app(scope, receive, send)


MIDDLEWARE: dict[str, type[BaseAuth] | type[AsgiAuth]] = {"base": BaseAuth, "asgi": AsgiAuth}


def main(kind: str, http: str) -> None:
    import uvloop

    from cogrt.http.app import create_app
    from cogrt.http.server import bind_socket, serve_app

    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    predictor = "http_trainer.py:Predictor"
    app = create_app(predictor, train=predictor)
    app.add_middleware(MIDDLEWARE[kind])
    uvloop.run(serve_app(app, bind_socket("127.0.0.1", 0), http=http))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
