"""``python -m cogrt train``: one training in process, like ``cog train``
(:mod:`cogrt.cli.predict` does the work)."""

from __future__ import annotations

import argparse

from cogrt.cli.predict import add_mode_arguments, run_mode

CONSOLE_LOGS = True
"""Log lines as text: a person reads them at a terminal."""

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_mode_arguments(parser, "train")


def run(ns: argparse.Namespace) -> int:
    return run_mode(ns, "train")
