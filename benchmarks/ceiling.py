"""Ceiling server: the least work any server must do to serve a Cog predictor.

Why it exists: cogrt's figures only mean something next to what the same
HTTP server (hypercorn or uvicorn) can do with no Cog semantics at all.  This
bare ASGI app (no framework, no validation, no webhooks, no cancel, no
prediction ids) loads the predictor from the model folder, calls setup(),
and answers:

* ``GET /health-check`` with ``{"status": "READY"}``;
* ``POST /predictions`` by decoding the body's ``input``, filling parameter
  defaults, calling predict (async predictors on the event loop, sync ones on
  one dedicated worker thread, as Cog runs them) and answering
  ``{"status": "succeeded", "output": ...}``; with
  ``Accept: text/event-stream`` a generator's chunks go out as SSE
  ``output`` events followed by ``completed`` (Cog's event names).

The one Cog behaviour kept is the slot limit: with all ``--max-concurrency``
slots busy it answers 409, so overload figures stay comparable with Cog.

Run it from the model folder:
``python ceiling.py --server hypercorn|uvicorn --port N [--predictor predict.py:Predictor]``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import inspect
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON_HEADERS = [(b"content-type", b"application/json")]
SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
_DONE = object()


def load_predictor(predictor_ref: str) -> Any:
    """Import ``file.py:Class`` from the current folder and return its instance."""
    file_name, _, attr = predictor_ref.partition(":")
    path = Path(file_name).resolve()
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    target = getattr(module, attr)
    return target() if inspect.isclass(target) else target


def predict_method(predictor: Any) -> Callable[..., Any]:
    """The user's run() or predict(), skipping stubs inherited from the cog package."""
    if inspect.isfunction(predictor):
        return predictor
    for klass in type(predictor).__mro__:
        if klass.__module__.split(".")[0] == "cog":
            continue
        for name in ("run", "predict"):
            if name in vars(klass):
                method: Callable[..., Any] = getattr(predictor, name)
                return method
    raise TypeError("predictor defines neither run() nor predict()")


def parameter_defaults(method: Callable[..., Any]) -> dict[str, Any]:
    """Defaults of predict's parameters, unwrapping ``Input(default=...)`` markers."""
    defaults: dict[str, Any] = {}
    for name, param in inspect.signature(method).parameters.items():
        if param.default is inspect.Parameter.empty:
            continue
        value = param.default
        if type(value).__name__ == "FieldInfo":
            value = getattr(value, "default", None)
        defaults[name] = value
    return defaults


class Ceiling:
    """The ASGI application; one instance serves one predictor."""

    def __init__(self, predictor: Any, max_concurrency: int) -> None:
        self.method = predict_method(predictor)
        self.defaults = parameter_defaults(self.method)
        self.is_async = inspect.iscoroutinefunction(self.method)
        self.is_async_gen = inspect.isasyncgenfunction(self.method)
        self.slots = max_concurrency
        self.busy = 0
        # One thread, like Cog's single sync slot: sync predictions never overlap.
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/health-check" and method == "GET":
            await _respond(send, 200, {"status": "READY"})
        elif path == "/predictions" and method == "POST":
            await self._predict(scope, receive, send)
        else:
            await _respond(send, 404, {"detail": "Not Found"})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.executor.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _predict(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        if self.busy >= self.slots:
            await _respond(send, 409, {"status": "failed", "error": "At capacity"})
            return
        # The slot is freed before the final bytes go out: a client that sends
        # its next request as soon as it reads a response must find it free.
        self.busy += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self.busy -= 1

        try:
            request = json.loads(body) if body else {}
            kwargs = {**self.defaults, **(request.get("input") or {})}
            if _wants_sse(scope) and (self.is_async_gen or _is_sync_gen(self.method)):
                await self._stream(send, kwargs, release)
                return
            output = await self._call(kwargs)
            payload = {"status": "succeeded", "output": output}
        except Exception as exc:  # prediction failure is data, as in Cog
            payload = {"status": "failed", "error": str(exc)}
        finally:
            release()
        await _respond(send, 200, payload)

    async def _call(self, kwargs: dict[str, Any]) -> Any:
        if self.is_async:
            return await self.method(**kwargs)
        if self.is_async_gen:
            return [chunk async for chunk in self.method(**kwargs)]
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, _run_sync, self.method, kwargs)

    async def _stream(
        self, send: Send, kwargs: dict[str, Any], release: Callable[[], None]
    ) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        await _send_event(send, "start", {"status": "processing"})
        output: list[Any] = []
        async for chunk in self._chunks(kwargs):
            await _send_event(send, "output", {"chunk": chunk, "index": len(output)})
            output.append(chunk)
        release()
        await _send_event(send, "completed", {"status": "succeeded", "output": output})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _chunks(self, kwargs: dict[str, Any]) -> Any:
        """Yield chunks on the loop; a sync generator runs on the predict thread."""
        if self.is_async_gen:
            async for chunk in self.method(**kwargs):
                yield chunk
            return
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()

        def produce() -> None:
            try:
                for chunk in self.method(**kwargs):
                    loop.call_soon_threadsafe(queue.put_nowait, chunk)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)

        producer = loop.run_in_executor(self.executor, produce)
        while (chunk := await queue.get()) is not _DONE:
            yield chunk
        await producer


def _run_sync(method: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    result = method(**kwargs)
    if isinstance(result, Iterator):
        return list(result)
    return result


def _is_sync_gen(method: Callable[..., Any]) -> bool:
    return inspect.isgeneratorfunction(method)


def _wants_sse(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"accept":
            return b"text/event-stream" in value
    return False


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Send, status: int, payload: Any) -> None:
    await send({"type": "http.response.start", "status": status, "headers": JSON_HEADERS})
    await send({"type": "http.response.body", "body": json.dumps(payload).encode()})


async def _send_event(send: Send, event: str, data: Any) -> None:
    frame = f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()
    await send({"type": "http.response.body", "body": frame, "more_body": True})


def _serve_hypercorn(app: Ceiling, host: str, port: int) -> None:
    import uvloop
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"{host}:{port}"]
    config.backlog = 2048  # uvicorn's default; hypercorn's 100 drops 1000-connection bursts
    config.accesslog = None
    config.loglevel = "WARNING"

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(app, config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]

    uvloop.run(main())


def _serve_uvicorn(app: Ceiling, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        backlog=2048,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Bare ASGI ceiling for a Cog predictor")
    parser.add_argument("--server", choices=("hypercorn", "uvicorn"), required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--predictor", default="predict.py:Predictor")
    parser.add_argument(
        "--max-concurrency",
        type=int,
        default=int(os.environ.get("COG_MAX_CONCURRENCY", "1")),
    )
    args = parser.parse_args(argv)
    predictor = load_predictor(args.predictor)
    if hasattr(predictor, "setup"):
        predictor.setup()
    app = Ceiling(predictor, args.max_concurrency)
    if args.server == "hypercorn":
        _serve_hypercorn(app, args.host, args.port)
    else:
        _serve_uvicorn(app, args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
