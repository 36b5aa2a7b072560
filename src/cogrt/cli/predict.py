"""``python -m cogrt predict`` (and ``train``): one prediction in process, like ``cog predict``.

Inputs come from ``-i NAME=VALUE`` or ``--json`` (the whole object, as ``cog
predict --json`` takes it; with ``--json`` the whole prediction is printed), and
are checked before the model runs, with Cog's messages (:mod:`cogrt.cli.input_check`).
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
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from cogrt.cli.input_check import check_names, describe_rejection, read_json_inputs
from cogrt.cli.outputs import OutputPrinter, render_json
from cogrt.cli.project import Project, add_ref_argument, resolve_project
from cogrt.errors import ConfigError, RequestError
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
    if mode == "train":
        where = "where to write the output [default: weights; stdout with --json]"
    else:
        where = "where to write the output [default: stdout; a file output.<ext>, output.<i>.<ext>]"
    parser.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="PATH",
        help=where,
    )
    parser.add_argument(
        "--json",
        nargs="?",
        const="",
        default=None,
        metavar="INPUTS",
        help=(
            f"print the whole {_NOUNS[mode]} object as JSON (status, output, logs, metrics);"
            " INPUTS, if given, is the input object instead of -i: JSON text, @FILE, or - for"
            " stdin (as cog predict --json)"
        ),
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

    if ns.json and ns.input:
        raise ConfigError("Must use one of --json or --input to provide model inputs")
    json_inputs = read_json_inputs(ns.json, sys.__stdin__) if ns.json else None
    training = project.mode == "train"
    runtime = Runtime(project.predictor, local_file_outputs=True, **project.runtime_kwargs())
    async with runtime:
        document = await runtime.wait_schema()  # inputs are checked before setup() ends
        if document is not None:
            schemas = components(document)
            schema = component(schemas, "Input", training)
            if json_inputs is None:
                inputs = parse_input_pairs(ns.input, schema.get("properties", {}), schemas)
            else:
                inputs = json_inputs
            check_names(inputs, schema)
            body = msgspec.json.encode({"input": inputs})
            validator = runtime.early_inputs(training)
            try:
                if validator is not None:
                    validator.decode_request(body, local_paths=True)
            except RequestError as exc:
                _say(f"cogrt: error: {describe_rejection(exc.detail, inputs, schema, schemas)}")
                return 1
        status = await runtime.wait_setup()
        if status not in ("READY", "BUSY"):
            setup = (await runtime.health())["setup"]
            _say(f"{setup.get('logs', '').rstrip()}\ncogrt: error: setup failed")
            return 1
        request = runtime.decode_request(body, training=training, local_paths=True)
        prediction = runtime.start(request, training=training)
        mapper = FileMapper(component(schemas, "Output", training), schemas)
        as_json = ns.json is not None
        output = ns.output
        if output is None and training and not as_json:
            output = "weights"  # as cog train: the result becomes the model folder's weights
        files_at = str(Path(output).with_suffix("")) if as_json and output else output
        printer = OutputPrinter(mapper, out, files_at)
        with _cancel_on_interrupt(prediction.cancel):
            await prediction.wait()
        snapshot = prediction.snapshot()
        if as_json:
            snapshot["output"] = printer.written_paths(snapshot["output"])
            _emit_json(render_json(snapshot), output, out)
        elif prediction.status == "succeeded":
            printer.finish(snapshot["output"])
    out.flush()
    if prediction.status == "failed":
        _say(f"cogrt: error: {project.mode} failed: {prediction.error}")
    elif prediction.status == "canceled":
        _say(f"cogrt: error: {project.mode} canceled")
    return 0 if prediction.status == "succeeded" else 1


def _emit_json(data: bytes, path: str | None, out: BinaryIO) -> None:
    """``--json``'s prediction object: to ``-o PATH`` when given, else stdout."""
    if path is None:
        out.write(data + b"\n")
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(data + b"\n")
    _say(f"Written output to: {path}")


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
