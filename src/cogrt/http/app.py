"""Cog's HTTP API (spec §11) over one in-process ``Runtime``.

Endpoints are module-level functions that read ``request.app.state``, so the
app holds no closures and can be mounted inside a larger Starlette or FastAPI
app: ``Starlette(routes=[Mount("/cog", cog_app)], lifespan=cog_app.lifespan)``.
Starlette never runs a mounted app's lifespan, so the outer app must; a
mounted app whose lifespan never ran answers every request with a 500 naming
that fix (and logs it) rather than hanging in ``STARTING`` forever. The
runtime is entered in the lifespan, so setup starts when the server starts
and the process answers ``/health-check`` while the model loads. ``GET /``
gives its URLs under the mount prefix (the ASGI ``root_path``).

Creating predictions (admission, delivery, refusals) lives in ``submission``;
this module is the routing table and the endpoints that need no admission.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from cogrt.errors import PredictionNotFoundError
from cogrt.http.incoming import runtime_of
from cogrt.http.observed import counted, metrics_endpoint
from cogrt.http.refusals import RefusalPacer
from cogrt.http.responses import error_response, json_response
from cogrt.http.sse import Streams
from cogrt.http.submission import submit
from cogrt.runner.gc_tuning import tune_gc_after_setup
from cogrt.runner.runtime import Runtime
from cogrt.sdk import __version__ as cog_api_version
from cogrt.telemetry.wiring import observe

__all__ = [
    "DEFAULT_GRACE_PERIOD",
    "DEFAULT_MAX_BODY_SIZE",
    "CogApp",
    "create_app",
    "request_shutdown",
]

DEFAULT_MAX_BODY_SIZE = 100 * 1024 * 1024
"""Inline base64 files make big bodies normal (spec §8.1 asks for at least 100 MiB)."""
DEFAULT_GRACE_PERIOD = 25.0
"""Seconds in-flight predictions get at shutdown: inside Kubernetes' default 30 s."""

_encode = msgspec.json.Encoder().encode
_log = logging.getLogger("cogrt.http")
_NO_STACK = object()
"""``CogApp._direct_for`` until a stack is built, and when every request must go through it."""


def create_app(
    predictor_or_runtime: Any,
    *,
    max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    grace_period: float = DEFAULT_GRACE_PERIOD,
    on_shutdown: Callable[[], None] | None = None,
    tune_gc_after_setup: bool = False,
    metrics: bool | None = None,
    tracer_provider: Any = None,
    **runtime_kwargs: Any,
) -> CogApp:
    """An ASGI app serving Cog's API for a predictor reference, object or ``Runtime``.

    ``tune_gc_after_setup`` (process-wide, so ``serve()`` sets it, not
    embedders by default) adapts the garbage collector once the model is
    loaded; see :mod:`cogrt.runner.gc_tuning`.
    ``on_shutdown`` is called once when ``POST /shutdown`` (or the server's
    signal handling) asks for a graceful stop; ``serve()`` wires it up.
    ``metrics``: serve ``GET /metrics`` (default: ``COGRT_METRICS``, on).
    ``tracer_provider``: an OpenTelemetry provider to trace to (default: the
    one ``OTEL_*`` describes, if any; see ``cogrt.telemetry.otel``).
    """
    if isinstance(predictor_or_runtime, Runtime):
        if runtime_kwargs:
            raise TypeError(
                f"runtime options {sorted(runtime_kwargs)} need a predictor, not a Runtime"
            )
        runtime = predictor_or_runtime
    else:
        runtime = Runtime(predictor_or_runtime, **runtime_kwargs)
    routes = [
        Route("/", root, methods=["GET"]),
        Route("/health-check", health_check, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/predictions", post_prediction, methods=["POST"]),
        Route("/predictions/{id}", put_prediction, methods=["PUT"]),
        Route("/predictions/{id}/cancel", cancel, methods=["POST"]),
        Route("/trainings", post_training, methods=["POST"]),
        Route("/trainings/{id}", put_training, methods=["PUT"]),
        Route("/trainings/{id}/cancel", cancel, methods=["POST"]),
        Route("/shutdown", shutdown, methods=["POST"]),
    ]
    streams = Streams(runtime.settings.stream_history_capacity)
    wanted = runtime.settings.metrics if metrics is None else metrics
    page = observe(
        runtime,
        metrics=wanted,
        tracer_provider=tracer_provider,
        sse_subscribers=streams.subscribers,
    )
    if page is not None:
        routes.append(Route("/metrics", metrics_endpoint, methods=["GET"]))
    app = CogApp(routes=routes, lifespan=_lifespan, exception_handlers={HTTPException: _http_error})
    app.state.runtime = runtime
    app.state.streams = streams
    app.state.metrics = page
    app.state.max_body_size = max_body_size
    app.state.grace_period = grace_period
    app.state.on_shutdown = on_shutdown
    app.state.tune_gc_after_setup = tune_gc_after_setup
    app.state.shutdown_requested = asyncio.Event()
    app.state.refusals = RefusalPacer()
    return app


class CogApp(Starlette):
    """Starlette, with a direct path for the two routes every request rate depends on.

    ``POST /predictions`` and ``GET /health-check`` skip the middleware stack
    and the router: that stack was about a quarter of a sync echo's time in
    the app (in process, ~205 -> ~150 us of CPU per request). They behave exactly as through the
    stack: the same endpoint functions, and an unexpected exception is a
    plain 500 that the server then logs, as Starlette's
    ``ServerErrorMiddleware`` does. Every other request goes through Starlette.

    The direct path exists only while the built stack adds nothing those two
    routes could observe: no user middleware (``add_middleware`` or the
    ``middleware=`` argument), no ``500``/``Exception``
    handler, no ``debug``, no ``max_body_size``. Starlette builds the stack
    once, at the first call (the lifespan's), and refuses ``add_middleware``
    after that, so the decision is taken when it is built, for that stack
    object: a stack replaced or rebuilt later is served as Starlette serves
    it. With middleware, every request, these two included, goes through it.
    """

    _direct_for: object = _NO_STACK
    """The built stack the direct path is allowed with (compared by identity per request)."""

    def lifespan(self, outer: object) -> contextlib.AbstractAsyncContextManager[Any]:
        """This app's lifespan, for the app it is mounted in: ``lifespan=cog_app.lifespan``.

        An outer app with a lifespan of its own enters this one inside it (e.g.
        ``async with cog_app.lifespan(app): yield``).
        """
        del outer  # Starlette calls a lifespan with its own app; this one is ``self``
        return self.router.lifespan_context(self)

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        self._direct_for = stack if self._stack_is_transparent() else _NO_STACK
        return stack

    def _stack_is_transparent(self) -> bool:
        """True when Starlette's stack would answer the direct routes as they answer alone."""
        handlers = self.exception_handlers
        return (
            not self.user_middleware
            and not self.debug
            and self.max_body_size is None
            and 500 not in handlers
            and Exception not in handlers
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.state.runtime.entered:
            await _not_started(self, scope, receive, send)
            return
        if (
            self._direct_for is self.middleware_stack
            and scope["type"] == "http"
            and not scope.get("root_path")
        ):
            endpoint = _DIRECT.get((scope["method"], scope["path"]))
            if endpoint is not None:
                scope["app"] = self
                try:
                    response = await endpoint(Request(scope, receive))
                except Exception:
                    await _INTERNAL_ERROR(scope, receive, send)
                    raise
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def request_shutdown(app: Starlette) -> None:
    """Begin a graceful stop: refuse new predictions and tell the server (once)."""
    event: asyncio.Event = app.state.shutdown_requested
    if event.is_set():
        return
    event.set()
    app.state.runtime.admission.expire_all()  # queued requests get 503 now, not at the end
    if app.state.on_shutdown is not None:
        app.state.on_shutdown()


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    runtime: Runtime = app.state.runtime
    async with runtime:
        freezer = None
        if app.state.tune_gc_after_setup:
            freezer = asyncio.get_running_loop().create_task(tune_gc_after_setup(runtime))
        try:
            yield
        finally:
            if freezer is not None:
                freezer.cancel()
            await runtime.drain(app.state.grace_period)


# -- endpoints ----------------------------------------------------------------------


async def root(request: Request) -> Response:
    """The URLs of the API, under the mount prefix when mounted in a larger app."""
    prefix = str(request.scope.get("root_path", "")).rstrip("/")
    body = {
        "cog_version": cog_api_version,
        "docs_url": f"{prefix}/docs",
        "openapi_url": f"{prefix}/openapi.json",
        "shutdown_url": f"{prefix}/shutdown",
        "healthcheck_url": f"{prefix}/health-check",
        "predictions_url": f"{prefix}/predictions",
        "predictions_idempotent_url": f"{prefix}/predictions/{{prediction_id}}",
        "predictions_cancel_url": f"{prefix}/predictions/{{prediction_id}}/cancel",
    }
    if runtime_of(request).supports_training:
        body["trainings_url"] = f"{prefix}/trainings"
        body["trainings_idempotent_url"] = f"{prefix}/trainings/{{training_id}}"
        body["trainings_cancel_url"] = f"{prefix}/trainings/{{training_id}}/cancel"
    return json_response(200, body)


async def health_check(request: Request) -> Response:
    """Always 200: Cog's clients poll it with tools that only accept 2xx (§18.1)."""
    return json_response(200, await runtime_of(request).health())


async def openapi(request: Request) -> Response:
    document = runtime_of(request).openapi_json
    if document is None:
        return json_response(503, {"error": "OpenAPI schema not available"})
    return Response(document, 200, media_type="application/json")


async def post_prediction(request: Request) -> Response:
    return counted(request, await submit(request, training=False, path_id=None))


async def put_prediction(request: Request) -> Response:
    path_id = request.path_params["id"]
    return counted(request, await submit(request, training=False, path_id=path_id))


async def post_training(request: Request) -> Response:
    return counted(request, await submit(request, training=True, path_id=None))


async def put_training(request: Request) -> Response:
    path_id = request.path_params["id"]
    return counted(request, await submit(request, training=True, path_id=path_id))


async def cancel(request: Request) -> Response:
    """200 ``{}`` while in flight, 404 ``{}`` otherwise; repeats are harmless (§11.4)."""
    try:
        runtime_of(request).cancel(request.path_params["id"])
    except PredictionNotFoundError as exc:
        return error_response(exc)
    return json_response(200, {})


async def shutdown(request: Request) -> Response:
    request_shutdown(request.app)
    return json_response(200, {})


_DIRECT: dict[tuple[str, str], Callable[[Request], Awaitable[Response]]] = {
    ("POST", "/predictions"): post_prediction,
    ("GET", "/health-check"): health_check,
}
"""Routes ``CogApp`` serves without Starlette's stack; also in the routing table."""
_INTERNAL_ERROR = PlainTextResponse("Internal Server Error", status_code=500)


_NOT_STARTED = (
    "cogrt's app was mounted without its lifespan, so the model never set up: pass"
    " lifespan=cog_app.lifespan to the outer Starlette or FastAPI app"
)


async def _not_started(app: CogApp, scope: Scope, receive: Receive, send: Send) -> None:
    """A request reached an app whose lifespan never ran: say how to fix it, loudly."""
    if not getattr(app.state, "not_started_logged", False):
        app.state.not_started_logged = True
        _log.error("%s", _NOT_STARTED)
    response = Response(_encode({"detail": _NOT_STARTED}), 500, media_type="application/json")
    await response(scope, receive, send)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown path 404 / wrong method 405 as JSON, the way FastAPI-based Cog answered."""
    assert isinstance(exc, HTTPException)
    return Response(
        _encode({"detail": exc.detail}), exc.status_code, exc.headers, "application/json"
    )
