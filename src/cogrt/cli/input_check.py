"""The ``input`` of a ``predict``/``train`` run as ``cog predict`` takes and checks it.

``--json`` takes the whole input object: as text, from a file (``@inputs.json``)
or from stdin (``-`` or ``@-``). Before the model runs, the input's names are
checked against the model's ``Input`` schema, and a rejected input is reported
in the words Cog's CLI uses (``unknown input "x"; valid inputs are: ...``,
``missing required input "x"``, ``invalid input "x": expected integer, got
string``), so scripts and people who read Cog's messages read the same ones.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

import msgspec

from cogrt.errors import ConfigError
from cogrt.schema.jsonrules import resolve_schema

__all__ = ["check_names", "describe_rejection", "read_json_inputs"]

_NOT_OF_TYPE = re.compile(r'^.* is not of type "(\w+)"$')


def read_json_inputs(source: str, stdin: TextIO | None = None) -> dict[str, Any]:
    """The input object ``--json SOURCE`` names; ``"@path"`` values name local files."""
    if source in ("-", "@-"):
        text = (stdin or sys.stdin).read()
    elif source.startswith("@"):
        try:
            text = Path(source[1:]).read_text()
        except OSError as exc:
            raise ConfigError(f"--json: cannot read {source[1:]!r}: {exc.strerror}") from None
    else:
        text = source
    try:
        inputs = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise ConfigError(f"--json: not valid JSON: {exc}") from None
    if not isinstance(inputs, dict):
        raise ConfigError('--json: the inputs must be a JSON object ({"name": value, ...})')
    return {k: v[1:] if isinstance(v, str) and v.startswith("@") else v for k, v in inputs.items()}


def check_names(inputs: Mapping[str, Any], component: Mapping[str, Any]) -> None:
    """Refuse unknown names and missing required inputs, as ``cog predict`` does."""
    properties = component.get("properties", {})
    unknown = sorted(name for name in inputs if name not in properties)
    if unknown:
        valid = ", ".join(sorted(properties))
        suffix = f"valid inputs are: {valid}" if valid else "model does not accept inputs"
        names = ", ".join(f'"{name}"' for name in unknown)
        raise ConfigError(f"unknown input{'s' if len(unknown) > 1 else ''} {names}; {suffix}")
    missing = [name for name in component.get("required", []) if name not in inputs]
    if missing:
        raise ConfigError(_joined(f'missing required input "{name}"' for name in missing))


def describe_rejection(
    detail: Iterable[Mapping[str, Any]],
    inputs: Mapping[str, Any],
    component: Mapping[str, Any],
    schemas: Mapping[str, Any],
) -> str:
    """Cog's CLI message for the validator's 422 ``detail`` entries."""
    properties = component.get("properties", {})
    messages = []
    for entry in detail:
        path = [str(part) for part in entry["loc"][2:]]
        name = ".".join(path) or "input"
        if entry.get("type") == "value_error.missing":
            messages.append(f'missing required input "{name}"')
            continue
        value = inputs.get(path[0]) if path else None
        allowed = _choices(properties.get(path[0], {}), schemas) if len(path) == 1 else None
        match = _NOT_OF_TYPE.match(entry["msg"])
        if path and path[0] in inputs and _at(value, path[1:]) is None:
            reason = "must not be null (omit the input to use its default)"
        elif match:
            reason = f"expected {match.group(1)}, got {_json_type(_at(value, path[1:]))}"
        elif allowed is not None:
            reason = "must be one of: " + ", ".join(str(choice) for choice in allowed)
        else:
            reason = entry["msg"]
        messages.append(f'invalid input "{name}": {reason}')
    return _joined(messages)


def _joined(messages: Iterable[str]) -> str:
    found = list(messages)
    return found[0] if len(found) == 1 else "input validation failed:\n- " + "\n- ".join(found)


def _choices(schema: Mapping[str, Any], schemas: Mapping[str, Any]) -> list[Any] | None:
    """The allowed values of a ``choices`` input (an enum component behind ``allOf``)."""
    try:
        enum = resolve_schema(schema, schemas).get("enum")
    except ValueError:  # a reference it cannot resolve
        return None
    return list(enum) if isinstance(enum, list) else None


def _at(value: Any, path: list[str]) -> Any:
    for part in path:
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict):
            value = value.get(part)
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"
