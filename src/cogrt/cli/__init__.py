"""``python -m cogrt``: the command table and ``main``.

Every command is a module with two functions, looked up in ``COMMANDS`` and
imported only when it runs (``python -m cogrt predict`` never imports the
HTTP server)::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(ns: argparse.Namespace) -> int: ...  # the exit status

``run`` may raise :class:`cogrt.errors.CogrtError`: ``main`` prints its
message as one line, ``cogrt: error: ...``, and exits with status 1. Logging
is configured before ``run`` (:mod:`cogrt.cli.logging_setup`): JSON lines,
or text for a module that sets ``CONSOLE_LOGS = True`` (commands run at a
terminal). Adding a
command is one line in ``COMMANDS``: ``Command(name, one-line summary,
module path)``; ``python -m cogrt --help`` lists it from there. With no
command (or a first argument that is not a bare word, like a ``REF``),
``serve`` runs, as ``python -m cog.server.http`` does with Cog.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from cogrt import startup_gc
from cogrt.cli.help import Command, overview
from cogrt.cli.logging_setup import configure_logging
from cogrt.cli.project import Project, resolve_project
from cogrt.errors import CogrtError
from cogrt.version import __version__

__all__ = ["COMMANDS", "Command", "Project", "configure_logging", "main", "resolve_project"]

COMMANDS: tuple[Command, ...] = (
    Command("serve", "serve Cog's HTTP API (the default command)", "cogrt.cli.serve"),
    Command("predict", "run one prediction, like cog predict", "cogrt.cli.predict"),
    Command("train", "run one training, like cog train", "cogrt.cli.train"),
    Command("schema", "print the OpenAPI schema without running setup()", "cogrt.cli.schema"),
    Command("worker", "pull predictions from a Redis stream", "cogrt.cli.worker"),
    Command(
        "bench", "load-test the model at several concurrencies or rates", "cogrt.bench.command"
    ),
)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(overview(COMMANDS, __version__), end="")
        return 0
    by_name = {command.name: command for command in COMMANDS}
    name = "serve"
    if args and args[0][:1].isalpha() and args[0].replace("-", "_").isidentifier():  # not REF
        name = args.pop(0)
        if name not in by_name:
            known = ", ".join(by_name)
            print(
                f"cogrt: error: unknown command {name!r} (commands: {known};"
                " python -m cogrt --help)",
                file=sys.__stderr__,
            )
            return 2
    command = by_name[name]
    module = importlib.import_module(command.module)
    if name == "bench":  # its load generator runs here, and may load no model to resume it
        startup_gc.resume()
    parser = argparse.ArgumentParser(prog=f"python -m cogrt {name}", description=command.summary)
    parser.add_argument("-v", "--version", action="version", version=f"cogrt {__version__}")
    module.add_arguments(parser)
    try:
        ns = parser.parse_args(args)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else 2
    configure_logging(console_by_default=getattr(module, "CONSOLE_LOGS", False))
    try:
        code: int = module.run(ns)
    except CogrtError as exc:
        print(f"cogrt: error: {exc}", file=sys.__stderr__)
        return 1
    return code
