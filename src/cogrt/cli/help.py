"""The words of the CLI: the overview ``python -m cogrt --help`` prints, and option helpers.

Each option's help names the environment variable that sets it too, as
``[env: NAME]``, so ``--help`` is the one place to look.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import NamedTuple

__all__ = ["Command", "env_flag", "overview"]

_TRUE = frozenset({"1", "true", "yes", "on"})


class Command(NamedTuple):
    """One row of the command table: ``module`` exposes ``add_arguments`` and ``run``."""

    name: str
    summary: str
    module: str


def env_flag(name: str) -> bool:
    """A boolean option's default from the environment: ``1``, ``true``, ``yes`` or ``on``."""
    return os.environ.get(name, "").strip().lower() in _TRUE


def overview(commands: Sequence[Command], version: str) -> str:
    """``python -m cogrt --help``: what each command does, one line each."""
    width = max(len(c.name) for c in commands)
    rows = "\n".join(f"  {c.name:<{width}}  {c.summary}" for c in commands)
    return f"""usage: python -m cogrt [COMMAND] [REF] [OPTIONS]

cogrt {version}: run a Cog model (predict.py + cog.yaml) without Docker.
Run it in the model's folder; with no COMMAND it serves.

commands:
{rows}

python -m cogrt COMMAND --help lists a command's options and their environment variables.
REF names the entry point, e.g. predict.py:Predictor; by default it comes from
$COG_PREDICT_TYPE_STUB, else cog.yaml's run: (or predict:).

environment (every command):
  COG_LOG_LEVEL      debug, info (default), warning or error
  LOG_FORMAT=console plain text log lines instead of JSON

guide: docs/guide.md in the cogrt repository
"""
