"""``python -m cogrt schema``: print the OpenAPI document without running ``setup()``."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TYPE_CHECKING

from cogrt.cli.project import Project, add_mode_argument, add_ref_argument, resolve_project
from cogrt.schema.modes import Mode

if TYPE_CHECKING:
    from cogrt.schema.signature import Signature

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_ref_argument(parser)
    add_mode_argument(parser, "describe")


def run(ns: argparse.Namespace) -> int:
    """Print the document; ``setup()`` is never run (it may load weights)."""
    from cogrt.schema.openapi import SCHEMA_FILE, build_document, dumps, load_document
    from cogrt.sdk import __version__ as cog_api_version

    project = resolve_project(ns.ref, ns.x_mode)
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
