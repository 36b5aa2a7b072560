"""The request bodies a load cycles through: from ``-i name=value`` or a JSONL file.

``-i`` follows ``predict``'s rules (``cogrt.schema.pairs``), typed by the
model's schema, except that ``@file`` becomes a ``data:`` URI: over HTTP (and
into a runtime, as an HTTP caller) a file input must be a URL. A JSONL line is
an input object, or a request body with an ``input`` key. A name the model's
``Input`` does not declare is refused here: Cog's servers drop unknown inputs
silently, and a load test of the wrong input would measure the wrong thing.
"""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import Any

import msgspec

from cogrt.errors import BenchError, ConfigError
from cogrt.schema.output_files import component, components
from cogrt.schema.pairs import parse_input_pairs

__all__ = ["load_inputs"]


def _data_uri(path: str) -> str:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise BenchError(f"-i ...=@{path}: cannot read the file: {exc.strerror}") from None
    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


def _from_pairs(
    pairs: list[str], properties: dict[str, Any], schemas: dict[str, Any]
) -> dict[str, Any]:
    files = {pair.partition("=")[0] for pair in pairs if pair.partition("=")[2].startswith("@")}
    try:
        inputs = parse_input_pairs(pairs, properties, schemas)
    except ConfigError as exc:
        raise BenchError(str(exc)) from None
    for name in files:
        value = inputs[name]
        inputs[name] = (
            [_data_uri(v) for v in value] if isinstance(value, list) else _data_uri(value)
        )
    return inputs


def _from_jsonl(path: str) -> list[dict[str, Any]]:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise BenchError(f"--inputs {path}: cannot read the file: {exc.strerror}") from None
    inputs: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = msgspec.json.decode(line)
        except msgspec.DecodeError as exc:
            raise BenchError(f"--inputs {path}, line {number}: not JSON: {exc}") from None
        if isinstance(value, dict) and isinstance(value.get("input"), dict):
            value = value["input"]
        if not isinstance(value, dict):
            raise BenchError(f"--inputs {path}, line {number}: expected a JSON object")
        inputs.append(value)
    if not inputs:
        raise BenchError(f"--inputs {path}: no inputs in the file")
    return inputs


def load_inputs(pairs: list[str], jsonl: str | None, openapi: bytes | None) -> list[dict[str, Any]]:
    """Request bodies (``{"input": {...}}``), at least one, names checked against the schema."""
    if pairs and jsonl:
        raise BenchError("-i and --inputs exclude each other")
    schemas = components(openapi)
    declared = component(schemas, "Input", training=False).get("properties", {})
    inputs = _from_jsonl(jsonl) if jsonl else [_from_pairs(pairs, declared, schemas)]
    if openapi is not None:
        for value in inputs:
            unknown = sorted(set(value) - set(declared))
            if unknown:
                known = ", ".join(sorted(declared)) or "none"
                raise BenchError(
                    f"the model has no input named {', '.join(map(repr, unknown))}"
                    f" (its inputs: {known})"
                )
    return [{"input": value} for value in inputs]
