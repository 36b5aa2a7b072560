"""``python -m cogrt predict`` (and ``train``): one prediction in process, like ``cog predict``.

Only the result reaches stdout. While the model loads and runs, file
descriptor 1 points at stderr, so ``print()`` in the model, its logging, C
extensions and subprocesses all land there; the result is written to the
original stdout (kept as a duplicate descriptor), so ``> out.txt`` or ``| jq``
get exactly the answer. The exit status is 0 only for a succeeded prediction.
Ctrl-C cancels the prediction (a second one ends the process).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

import msgspec

from cogrt.cli.outputs import OutputPrinter
from cogrt.cli.project import Project, add_ref_argument, resolve_project
from cogrt.errors import RequestError
from cogrt.schema.modes import Mode
from cogrt.schema.output_files import FileMapper, component, components
from cogrt.schema.pairs import parse_input_pairs

CONSOLE_LOGS = True
"""Log lines as text: a person reads them at a terminal."""

__all__ = ["add_arguments", "add_mode_arguments", "run", "run_mode"]


_NOUNS = {"predict": "prediction", "train": "training"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_mode_arguments(parser, "predict")


def run(ns: argparse.Namespace) -> int:
    return run_mode(ns, "predict")


def add_mode_arguments(parser: argparse.ArgumentParser, mode: Mode) -> None:
    add_ref_argument(parser, mode)
    parser.add_argument(
        "-i",
        "--input",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an input; NAME=@FILE reads a local file; repeat a name for a list",
    )
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="PATH",
        help="where to write a file output [default: output.<ext>, output.<i>.<ext> for several]",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help=f"print the whole {_NOUNS[mode]} object as JSON (status, output, logs, metrics)",
    )


def run_mode(ns: argparse.Namespace, mode: Mode) -> int:
    project = resolve_project(ns.ref, mode)
    with _result_stream() as out, contextlib.redirect_stdout(sys.stderr):
        return asyncio.run(_predict(project, ns, out))


@contextlib.contextmanager
def _result_stream() -> Iterator[BinaryIO]:
    """The original stdout, for the result; fd 1 goes to stderr meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    out = os.fdopen(os.dup(saved), "wb")
    try:
        yield out
    finally:
        out.close()
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


async def _predict(project: Project, ns: argparse.Namespace, out: BinaryIO) -> int:
    from cogrt.runner.runtime import Runtime

    training = project.mode == "train"
    runtime = Runtime(project.predictor, local_file_outputs=True, **project.runtime_kwargs())
    async with runtime:
        status = await runtime.wait_setup()
        if status not in ("READY", "BUSY"):
            setup = (await runtime.health())["setup"]
            _say(f"{setup.get('logs', '').rstrip()}\ncogrt: error: setup failed")
            return 1
        schemas = components(runtime.openapi_json)
        properties = component(schemas, "Input", training).get("properties", {})
        inputs = parse_input_pairs(ns.input, properties)
        try:
            body = msgspec.json.encode({"input": inputs})
            request = runtime.decode_request(body, training=training, local_paths=True)
            prediction = runtime.start(request, training=training)
        except RequestError as exc:
            _say(f"cogrt: error: invalid input: {exc}")
            return 1
        mapper = FileMapper(component(schemas, "Output", training), schemas)
        printer = OutputPrinter(mapper, out, ns.output)
        if not ns.json:
            prediction.add_listener(printer.on_event)
        with _cancel_on_interrupt(prediction.cancel):
            await prediction.wait()
        snapshot = prediction.snapshot()
        if ns.json:
            snapshot["output"] = printer.written_paths(snapshot["output"])
            out.write(msgspec.json.format(msgspec.json.encode(snapshot), indent=2) + b"\n")
        elif prediction.status == "succeeded":
            printer.finish(snapshot["output"])
    out.flush()
    if prediction.status == "failed":
        _say(f"cogrt: error: {project.mode} failed: {prediction.error}")
    elif prediction.status == "canceled":
        _say(f"cogrt: error: {project.mode} canceled")
    return 0 if prediction.status == "succeeded" else 1


@contextlib.contextmanager
def _cancel_on_interrupt(cancel: Any) -> Iterator[None]:
    """The first Ctrl-C cancels the prediction; the handler goes after it, so a second
    one interrupts as usual."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, cancel)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
        yield
        return
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGINT)


def _say(text: str) -> None:
    print(text, file=sys.__stderr__ or sys.stderr, flush=True)
