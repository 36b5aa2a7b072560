"""``-i name=value`` pairs, typed by a model's OpenAPI ``Input``: for ``predict`` and ``bench``.

A value whose declared type is not a string parses as JSON (``-i n=3``,
``-i tags='["a"]'``), ``@file`` names a file, and a repeated name builds a
list. Pure: the caller decides what a path may mean.
"""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec

from cogrt.errors import ConfigError

__all__ = ["input_properties", "parse_input_pairs"]


def input_properties(openapi: bytes | None) -> dict[str, Any]:
    """The ``Input`` component's properties (name -> JSON Schema) of an OpenAPI document."""
    schemas = msgspec.json.decode(openapi or b"{}").get("components", {}).get("schemas", {})
    properties: dict[str, Any] = schemas.get("Input", {}).get("properties", {})
    return properties


def parse_input_pairs(pairs: list[str], openapi: bytes | None) -> dict[str, Any]:
    """``-i name=value``: non-string inputs parse as JSON, ``@file`` is a path, repeats a list."""
    properties = input_properties(openapi)
    inputs: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep:
            raise ConfigError(f"-i {pair!r}: expected NAME=VALUE")
        value: Any = text[1:] if text.startswith("@") else text
        if properties.get(name, {}).get("type", "string") != "string" and not text.startswith("@"):
            with contextlib.suppress(msgspec.DecodeError):
                value = msgspec.json.decode(text)
        if name in inputs:
            previous = inputs[name]
            inputs[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            inputs[name] = value
    return inputs
