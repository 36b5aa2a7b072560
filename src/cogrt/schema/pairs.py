"""``-i name=value`` as ``cog predict`` reads it, typed by the model's input schema:
for ``predict``, ``train`` and ``bench``.

A value for a string input is taken as written; for any other type it is
parsed as JSON (``-i steps=30``, ``-i tags='["a","b"]'``), falling back to the
text, which validation then refuses with a clear message. For a union
(``str | float``) the JSON value is kept only when a member takes its type, so
``1.5`` is a number and ``hello`` stays a string, whichever member comes first. ``@path`` names a
local file (the caller decides what a path may mean: ``predict`` runs for the
machine's own user, while an HTTP caller must send a URL). A name given more
than once, or once for an array input, becomes a list.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from cogrt.errors import ConfigError
from cogrt.schema.jsonrules import has_type, resolve_schema

__all__ = ["parse_input_pairs"]


def parse_input_pairs(
    pairs: Sequence[str],
    properties: dict[str, Any],
    components: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The request's ``input`` object from ``-i`` arguments and the ``Input`` schema's
    ``properties``; ``components`` (the document's schemas) resolves references, which
    type ``choices`` inputs (their property points at an enum component)."""
    inputs: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"-i {pair!r}: expected NAME=VALUE (or NAME=@FILE)")
        schema = properties.get(name, {})
        with contextlib.suppress(ValueError):  # a reference it cannot resolve: typed as given
            schema = resolve_schema(schema, components or {})
        kind = schema.get("type", "string")
        value: Any = text
        members = schema.get("anyOf")
        if text.startswith("@"):
            value = text[1:]
        elif isinstance(members, list):
            value = _union_value(text, members)
        elif kind != "string" and (not _is_string_array(schema) or text.startswith("[")):
            with contextlib.suppress(msgspec.DecodeError):
                value = msgspec.json.decode(text)
        if name in inputs:
            previous = inputs[name]
            inputs[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        elif kind == "array" and not isinstance(value, list):
            inputs[name] = [value]
        else:
            inputs[name] = value
    return inputs


_UNION_TYPES = frozenset({"integer", "number", "boolean", "array", "object"})
"""Union members whose JSON value ``-i`` keeps (a string member takes the text as written)."""


def _union_value(text: str, members: list[Any]) -> Any:
    """``text`` parsed as JSON if a member of the union takes the parsed type, else the text."""
    try:
        parsed = msgspec.json.decode(text)
    except msgspec.DecodeError:
        return text
    for member in members:
        kind = member.get("type") if isinstance(member, dict) else None
        if kind in _UNION_TYPES and has_type(parsed, kind):
            return parsed
    return text


def _is_string_array(schema: dict[str, Any]) -> bool:
    """``list[str]`` / ``list[Path]``: ``-i x=a`` is the item ``"a"``, unless it is JSON."""
    items = schema.get("items", {})
    return schema.get("type") == "array" and items.get("type") == "string"
