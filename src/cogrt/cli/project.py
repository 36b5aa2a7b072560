"""Which model to load: the ``REF`` argument, the environment and ``cog.yaml`` (spec §2).

Start-up reads ``cog.yaml`` from the working directory, applies its
``environment:`` entries before anything imports the model, then picks the
reference: CLI ``REF`` > ``COG_PREDICT_TYPE_STUB`` / ``COG_TRAIN_TYPE_STUB``
> ``cog.yaml``'s ``run:`` (or ``predict:``) / ``train:``.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import msgspec

from cogrt.config import Settings, apply_environment, load_cog_yaml
from cogrt.errors import ConfigError
from cogrt.schema.modes import Mode

__all__ = ["Project", "add_mode_argument", "add_ref_argument", "resolve_project"]


class Project(msgspec.Struct, frozen=True):
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


def add_ref_argument(parser: argparse.ArgumentParser, mode: Mode = "predict") -> None:
    """The optional ``REF`` every model-loading command takes."""
    if mode == "train":
        where = "$COG_TRAIN_TYPE_STUB, else cog.yaml's train:"
        example = "train.py:train"
    else:
        where = "$COG_PREDICT_TYPE_STUB, else cog.yaml's run: or predict:"
        example = "predict.py:Predictor"
    parser.add_argument(
        "ref",
        nargs="?",
        metavar="REF",
        help=f"the {mode} entry point, e.g. {example} [default: {where}]",
    )


def add_mode_argument(parser: argparse.ArgumentParser, verb: str) -> None:
    """``--x-mode``: the training entry point as the primary one, as Cog's train server."""
    parser.add_argument(
        "--x-mode",
        choices=("predict", "train"),
        default="predict",
        help=f"{verb} the training entry point as the primary one (as cog's train server)",
    )


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
