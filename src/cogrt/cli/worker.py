"""``python -m cogrt worker``: the model as a Redis Streams queue worker (docs/queue.md).

The project (``REF``, ``cog.yaml`` and its environment) is resolved here
exactly as for ``serve``; :mod:`cogrt.worker.command` owns the worker's own
flags and runs it (the worker package sits below the CLI and never imports it).
"""

from __future__ import annotations

import argparse

from cogrt.cli.project import add_ref_argument, resolve_project

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from cogrt.worker import command

    add_ref_argument(parser)
    command.add_arguments(parser)


def run(ns: argparse.Namespace) -> int:
    from cogrt.worker import command

    return command.run(ns, resolve_project(ns.ref))
