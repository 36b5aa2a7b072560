"""The start-up floor of cogrt's stack: what any server built on it pays before READY.

It loads what cogrt cannot serve a Cog model without (the interpreter,
asyncio with uvloop, msgspec, PyYAML reading ``cog.yaml``, a Starlette app
and hypercorn, loaded the way cogrt loads it, HTTP/1.1 only) and answers
``GET /health-check`` with ``{"status":"READY"}`` at once: no model, no
runtime, no CLI. ``startup.py --floor`` times it beside cogrt (and Cog),
so cogrt's own share of its start-up is the difference.

    cd models/echo && python ../../stack_floor.py --port 5000
"""

from __future__ import annotations

import sys

import msgspec
import uvloop
from hypercorn.config import Config
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cogrt.http.hypercorn_h11 import load_serve


def main() -> None:
    port = sys.argv[sys.argv.index("--port") + 1] if "--port" in sys.argv else "5000"
    with open("cog.yaml", "rb") as file:  # as cogrt reads it
        msgspec.yaml.decode(file.read())
    body = msgspec.json.encode({"status": "READY"})

    async def health_check(request: Request) -> Response:
        return Response(body, media_type="application/json")

    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    app = Starlette(routes=[Route("/health-check", health_check)])
    uvloop.run(load_serve()(app, config))


if __name__ == "__main__":
    main()
