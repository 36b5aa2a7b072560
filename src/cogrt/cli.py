"""``python -m cogrt``: serve (the default), ``schema``, ``predict`` and ``worker``.

Start-up follows spec §2: read ``cog.yaml`` from the working directory,
apply its ``environment:`` entries before anything imports the model, then
pick the reference (CLI ``REF`` > ``COG_PREDICT_TYPE_STUB`` /
``COG_TRAIN_TYPE_STUB`` > ``cog.yaml``). ``python -m cog.server.http`` lands
here too, with the same flags and no ``REF``.

cogrt's own log lines go to the *original* stderr (``sys.__stderr__``): the
runtime captures ``sys.stderr`` into prediction logs, and server chatter
must never show up there.

Serving normally runs in a process forked by :mod:`cogrt.supervisor`
(``python -m cogrt`` starts there); ``_serve`` then takes its socket, stop
requests and crash journal from the supervisor (:mod:`cogrt.supervisor.link`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import msgspec

from cogrt.config import Settings, apply_environment, load_cog_yaml
from cogrt.errors import CogrtError, ConfigError, RequestError
from cogrt.schema.modes import Mode
from cogrt.version import __version__

if TYPE_CHECKING:
    from cogrt.schema.signature import Signature
    from cogrt.supervisor import Inheritance

__all__ = ["Project", "configure_logging", "main", "resolve_project"]

log = logging.getLogger("cogrt")
_FALSE = frozenset({"false", "0", "no", "off", ""})
_LEVELS = {
    "debug": "DEBUG",
    "info": "INFO",
    "warn": "WARNING",
    "warning": "WARNING",
    "error": "ERROR",
}


@dataclass(frozen=True)
class Project:
    """What to load, resolved from the CLI, the environment and ``cog.yaml``."""

    predictor: str
    mode: Mode
    train: str | None
    concurrency: int | None
    settings: Settings

    def runtime_kwargs(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "train": self.train,
            "settings": self.settings,
            "concurrency": self.concurrency,
        }


def resolve_project(ref: str | None, mode: Mode = "predict") -> Project:
    """Apply ``cog.yaml`` to the process and find the reference (spec §2.2)."""
    config = load_cog_yaml(".")
    apply_environment(config.environment)
    yaml_ref = config.predictor_ref
    if mode == "train":
        target = ref or os.environ.get("COG_TRAIN_TYPE_STUB") or config.train
        train = None
        missing = "COG_TRAIN_TYPE_STUB or `train:` in cog.yaml"
    else:
        target = ref or os.environ.get("COG_PREDICT_TYPE_STUB") or yaml_ref
        train = os.environ.get("COG_TRAIN_TYPE_STUB") or config.train
        missing = "COG_PREDICT_TYPE_STUB or `run:` in cog.yaml"
    if not target:
        raise ConfigError(f"no {mode} reference: pass REF (file.py:Name) or set {missing}")
    concurrency = config.concurrency.max if config.concurrency is not None else None
    return Project(target, mode, train, concurrency, Settings.from_environ())


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = (
        args.pop(0) if args and args[0] in ("serve", "schema", "predict", "worker") else "serve"
    )
    parser = _parser(command)
    try:
        ns = parser.parse_args(args)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else 2
    configure_logging()
    try:
        project = resolve_project(ns.ref, ns.x_mode)
        if command == "schema":
            return _schema(project)
        if command == "predict":
            return _run_predict(project, ns.input)
        if command == "worker":
            from cogrt.worker import command as worker_command

            return worker_command.run(ns, project)
        return _serve(project, ns)
    except CogrtError as exc:
        print(f"cogrt: error: {exc}", file=sys.__stderr__)
        return 1


def _parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"python -m cogrt {command}".replace(" serve", ""))
    parser.add_argument(
        "ref", nargs="?", metavar="REF", help="predictor, e.g. predict.py:Predictor"
    )
    parser.add_argument("--x-mode", choices=("predict", "train"), default="predict")
    parser.add_argument("-v", "--version", action="version", version=f"cogrt {__version__}")
    if command == "predict":
        parser.add_argument("-i", "--input", action="append", default=[], metavar="NAME=VALUE")
    if command == "worker":
        from cogrt.worker import command as worker_command

        worker_command.add_arguments(parser)
    if command != "serve":
        return parser
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=None, help="default: $PORT, else 5000")
    parser.add_argument("--upload-url", default=None)
    parser.add_argument(
        "--await-explicit-shutdown", nargs="?", const="true", default="false", metavar="VALUE"
    )
    parser.add_argument("--threads", type=int, default=None, help="accepted and ignored, as in Cog")
    parser.add_argument("--http", choices=("hypercorn", "uvicorn"), default="hypercorn")
    parser.add_argument(
        "--no-supervise",
        action="store_true",
        help="run the server as the only process: a crash ends it (for systemd or Kubernetes"
        " to restart) instead of a supervisor restarting it on the same socket;"
        " COGRT_SUPERVISE=0 does the same",
    )
    return parser


def _serve(project: Project, ns: argparse.Namespace) -> int:
    from cogrt.http.server import serve
    from cogrt.supervisor import inherited

    if sys.__stderr__ is not None:  # a crash in C code prints the Python stacks
        faulthandler.enable(sys.__stderr__, all_threads=True)
    port = ns.port
    if port is None:
        raw = os.environ.get("PORT", "5000")
        if not raw.isdigit():
            raise ConfigError(f"PORT={raw!r} is not a port number")
        port = int(raw)
    explicit_shutdown = ns.await_explicit_shutdown.strip().lower() not in _FALSE
    inheritance = inherited()
    if inheritance is not None:
        return _serve_supervised(project, ns, inheritance, port, explicit_shutdown)
    serve(  # --no-supervise, COGRT_SUPERVISE=0, or a platform without fork()
        project.predictor,
        host=ns.host,
        port=port,
        http=ns.http,
        upload_url=ns.upload_url,
        await_explicit_shutdown=explicit_shutdown,
        **project.runtime_kwargs(),
    )
    return 0


def _serve_supervised(
    project: Project,
    ns: argparse.Namespace,
    inheritance: Inheritance,
    port: int,
    explicit_shutdown: bool,
) -> int:
    """Serve in a runtime process the supervisor forked: its socket, stop requests, journal."""
    from cogrt.http.server import bind_socket, serve
    from cogrt.runner.runtime import Runtime
    from cogrt.supervisor.link import SupervisorLink

    link = SupervisorLink(inheritance)
    if explicit_shutdown:
        link.ignore_sigterm()
    runtime = Runtime(
        project.predictor,
        upload_url=ns.upload_url,
        journal=link.journal(),
        **project.runtime_kwargs(),
    )
    serve(
        runtime,
        sock=link.listener(lambda: bind_socket(ns.host, port)),
        http=ns.http,
        await_explicit_shutdown=explicit_shutdown,
        shutdown_trigger=lambda: link.watch(runtime),
        on_shutdown=link.stopping,  # reaches create_app through serve()'s keyword arguments
    )
    return 0


def _schema(project: Project) -> int:
    """Print the OpenAPI document without running ``setup()`` (it may load weights)."""
    from cogrt.schema.openapi import SCHEMA_FILE, build_document, dumps, load_document
    from cogrt.sdk import __version__ as cog_api_version

    document = load_document(SCHEMA_FILE)
    if document is None:
        with contextlib.redirect_stdout(sys.stderr):  # model prints must not corrupt the output
            primary = _signature(project, project.predictor, project.mode)
            extra = _signature(project, project.train, "train") if project.train else None
        predict_sig, train_sig = (None, primary) if project.mode == "train" else (primary, extra)
        document = build_document(
            predict_sig, train_signature=train_sig, mode=project.mode, cog_version=cog_api_version
        )
    sys.stdout.buffer.write(dumps(document) + b"\n")
    return 0


def _signature(project: Project, ref: str, mode: Mode) -> Signature:
    from cogrt.runner.loader import resolve
    from cogrt.schema.signature import inspect_entry

    legacy = project.settings.legacy_none_defaults
    return inspect_entry(resolve(ref, mode).entry, legacy_none_defaults=legacy)


def _run_predict(project: Project, pairs: list[str]) -> int:
    return asyncio.run(_predict(project, pairs))


async def _predict(project: Project, pairs: list[str]) -> int:
    """One in-process prediction; the prediction object is printed as compact JSON.

    File inputs may be local paths (``-i image=@photo.png``): the caller is the
    machine's own user, unlike an HTTP client, which must send URLs.
    """
    from cogrt.runner.runtime import Runtime

    async with Runtime(project.predictor, **project.runtime_kwargs()) as runtime:
        status = await runtime.wait_setup()
        if status not in ("READY", "BUSY"):
            setup = (await runtime.health())["setup"]
            print(f"cogrt: setup failed:\n{setup.get('logs', '')}", file=sys.__stderr__)
            return 1
        training = project.mode == "train"
        body = msgspec.json.encode({"input": _inputs(pairs, runtime.openapi_json)})
        try:
            request = runtime.decode_request(body, training=training, local_paths=True)
            prediction = runtime.start(request, training=training)
        except RequestError as exc:
            print(f"cogrt: invalid input: {exc}", file=sys.__stderr__)
            return 1
        await prediction.wait()
    sys.stdout.buffer.write(prediction.to_json() + b"\n")
    return 0 if prediction.status == "succeeded" else 1


def _inputs(pairs: list[str], openapi: bytes | None) -> dict[str, Any]:
    """``-i name=value``: non-string inputs parse as JSON, ``@file`` is a path, repeats a list."""
    schemas = msgspec.json.decode(openapi or b"{}").get("components", {}).get("schemas", {})
    properties = schemas.get("Input", {}).get("properties", {})
    inputs: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep:
            raise ConfigError(f"-i {pair!r}: expected NAME=VALUE")
        value: Any = text[1:] if text.startswith("@") else text
        if properties.get(name, {}).get("type", "string") != "string" and not text.startswith("@"):
            with contextlib.suppress(msgspec.DecodeError):
                value = msgspec.json.decode(text)
        if name in inputs:
            previous = inputs[name]
            inputs[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            inputs[name] = value
    return inputs


def configure_logging() -> None:
    """cogrt's (and the HTTP server's) logs: JSON lines, or text with ``LOG_FORMAT=console``."""
    level = _LEVELS.get(os.environ.get("COG_LOG_LEVEL", "info").strip().lower(), "INFO")
    handler = logging.StreamHandler(sys.__stderr__)
    console = os.environ.get("LOG_FORMAT", "").strip().lower() == "console"
    if console:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    else:
        handler.setFormatter(_JsonFormatter())
    from cogrt.http import access_log  # server-only: `schema` and `predict` never load it

    access_log.configure(
        sys.__stderr__ or sys.stderr,
        json=not console,
        enabled=logging.getLevelName(level) <= logging.INFO,
    )
    for name in ("cogrt", "uvicorn"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False


class _JsonFormatter(logging.Formatter):
    """One JSON object per line, the shape log collectors ingest without parsing rules."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(entry).decode()
