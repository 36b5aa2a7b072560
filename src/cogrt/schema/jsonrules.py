"""The subset of JSON Schema that Cog's ``Input`` components use, as checkable rules.

A property schema (from ``cog build``'s document or cogrt's own) is compiled
once into a ``Rule``. The rule drives two things: the msgspec type that
validates the common, valid request at C speed (:mod:`cogrt.schema.inputs`),
and :func:`rule_errors`, which explains a rejected value with the messages of
the JSON-schema validator Cog's runtime uses (Rust ``jsonschema``, e.g.
``"abc" is not of type "integer"``, ``null is not of type "string"``), so
clients written against Cog read the same text.

Semantics follow spec §8.2, with one amendment: ``nullable: true`` accepts an
explicit ``null`` (the document promises it, and the predictor gets ``None``,
what an absent optional input gives it too; Cog 0.23 rejects it). Booleans are
not numbers, ``2.0`` is not an integer (spec §6.3 allows rejecting it, and the
msgspec path does), ``pattern`` is a search. One ``format`` is checked:
``uri`` marks a file input (``cog.Path``/``cog.File``), whose string must be
an ``http(s)://`` URL or a ``data:`` URI, so an HTTP caller can never make a
predictor open a file of the server (spec §8.4 as amended: no server-local files).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from cogrt.schema.uris import FILE_URL_PATTERN

__all__ = [
    "Rule",
    "has_type",
    "render",
    "resolve_schema",
    "rule_errors",
    "rule_from_schema",
    "same_value",
]

_REF = "#/components/schemas/"
_ANY_OF = "the 'anyOf' keyword"
_TYPES = frozenset({"string", "integer", "number", "boolean", "object", "array", "null"})
_FILE_URL = re.compile(FILE_URL_PATTERN)
_FILE_URL_HINT = "send an http:// or https:// URL or a data: URI, not a path or another scheme"
"""The end of the message refusing a file input: what to send instead."""


class Rule(msgspec.Struct, frozen=True):
    """The checks one JSON value must pass; empty ``types`` means any type."""

    types: tuple[str, ...] = ()
    enum: tuple[Any, ...] | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    items: Rule | None = None
    any_of: tuple[Rule, ...] | None = None
    file_url: bool = False
    """A string must be an http(s) URL or a data URI (``format: uri``, a file input)."""
    nullable: bool = False
    """``null`` passes (``nullable: true``), whatever ``types`` says."""

    @property
    def has_file_url(self) -> bool:
        """Whether this rule, or one nested in it, checks file URLs."""
        return (
            self.file_url
            or (self.items is not None and self.items.has_file_url)
            or any(option.has_file_url for option in self.any_of or ())
        )


def rule_from_schema(
    schema: Mapping[str, Any], components: Mapping[str, Any], *, local_paths: bool = False
) -> Rule:
    """Compile one property schema, resolving ``$ref``/``allOf`` against ``components``.

    Unknown keywords are ignored rather than rejected: a document written by a
    newer ``cog build`` must still load, validating what cogrt understands.
    ``local_paths`` leaves ``format: uri`` unchecked, for the trusted CLI only.
    """
    merged = _resolve(schema, components, depth=0)
    declared = merged.get("type")
    types = tuple(
        t for t in (declared if isinstance(declared, list) else [declared]) if t in _TYPES
    )
    enum = merged.get("enum")
    items = merged.get("items")
    any_of = merged.get("anyOf")
    return Rule(
        types=types,
        enum=tuple(enum) if isinstance(enum, list) else None,
        minimum=_number(merged.get("minimum")),
        maximum=_number(merged.get("maximum")),
        min_length=_count(merged.get("minLength")),
        max_length=_count(merged.get("maxLength")),
        pattern=_compile(merged.get("pattern")),
        items=(
            rule_from_schema(items, components, local_paths=local_paths)
            if isinstance(items, Mapping)
            else None
        ),
        any_of=(
            tuple(
                rule_from_schema(s, components, local_paths=local_paths)
                for s in any_of
                if isinstance(s, Mapping)
            )
            if isinstance(any_of, list)
            else None
        ),
        file_url=merged.get("format") == "uri" and not local_paths,
        nullable=merged.get("nullable") is True,
    )


def resolve_schema(schema: Mapping[str, Any], components: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$ref`` and ``allOf`` members folded in (own keys win); raises
    ``ValueError`` for a reference it cannot resolve."""
    return _resolve(schema, components, 0)


def _resolve(
    schema: Mapping[str, Any], components: Mapping[str, Any], depth: int
) -> dict[str, Any]:
    """``schema`` with its ``$ref`` and ``allOf`` members folded in (own keys win)."""
    if depth > 16:
        raise ValueError("schema references nest too deeply (a $ref cycle?)")
    merged: dict[str, Any] = {}
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith(_REF) or ref[len(_REF) :] not in components:
            raise ValueError(f"unresolvable schema reference {ref!r}")
        merged.update(_resolve(components[ref[len(_REF) :]], components, depth + 1))
    for part in schema.get("allOf") or ():
        if isinstance(part, Mapping):
            merged.update(_resolve(part, components, depth + 1))
    merged.update((k, v) for k, v in schema.items() if k not in ("$ref", "allOf"))
    return merged


def _number(value: Any) -> int | float | None:
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return value if is_number else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _compile(pattern: Any) -> re.Pattern[str] | None:
    """A Python regex, or None for one Python cannot read.

    Patterns are ECMA-262 in JSON Schema; the rare one Python rejects is not
    enforced rather than making every prediction fail.
    """
    if not isinstance(pattern, str):
        return None
    try:
        return re.compile(pattern)
    except re.error:
        return None


_RENDER_LIMIT = 200


def render(value: Any) -> str:
    """A value as the validator prints it: compact JSON (``null``, ``"x"``, ``[1,2]``).

    Cut after 200 characters: a 100 MiB data URI sent to the wrong field
    must not come back inside the error message.
    """
    text = msgspec.json.encode(value).decode()
    return text if len(text) <= _RENDER_LIMIT else text[:_RENDER_LIMIT] + "..."


def has_type(value: Any, name: str) -> bool:
    """JSON-schema type membership, with booleans kept apart from numbers."""
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    return value is None


def same_value(a: Any, b: Any) -> bool:
    """Enum equality: type-sensitive (``"3"`` is not ``3``, ``True`` is not ``1``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if has_type(a, "number") and has_type(b, "number"):
        return bool(a == b)
    return type(a) is type(b) and a == b


def rule_errors(rule: Rule, value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every ``(json pointer suffix, message)`` for ``value`` under ``rule``.

    The suffix is ``""`` for the value itself and ``"/0"`` for an array item.
    A value of the wrong type gets only the type error: range, length and
    enum checks say nothing useful about it.
    """
    if value is None and rule.nullable:
        return
    if rule.types and not any(has_type(value, t) for t in rule.types):
        wanted = ", ".join(f'"{t}"' for t in rule.types)
        plural = "s" if len(rule.types) > 1 else ""
        yield path, f"{render(value)} is not of type{plural} {wanted}"
        return
    if rule.enum is not None and not any(same_value(value, e) for e in rule.enum):
        yield path, f"{render(value)} is not one of {render(list(rule.enum))}"
    if has_type(value, "number"):
        if rule.minimum is not None and value < rule.minimum:
            yield path, f"{render(value)} is less than the minimum of {render(rule.minimum)}"
        if rule.maximum is not None and value > rule.maximum:
            yield path, f"{render(value)} is greater than the maximum of {render(rule.maximum)}"
    if isinstance(value, str):
        if rule.min_length is not None and len(value) < rule.min_length:
            yield path, f"{render(value)} is shorter than {_chars(rule.min_length)}"
        if rule.max_length is not None and len(value) > rule.max_length:
            yield path, f"{render(value)} is longer than {_chars(rule.max_length)}"
        if rule.pattern is not None and rule.pattern.search(value) is None:
            yield path, f'{render(value)} does not match "{rule.pattern.pattern}"'
        if rule.file_url and _FILE_URL.search(value) is None:
            yield path, f"{render(value)} is not a file URL: {_FILE_URL_HINT}"
    if isinstance(value, list) and rule.items is not None:
        for index, item in enumerate(value):
            yield from rule_errors(rule.items, item, f"{path}/{index}")
    if rule.any_of is not None and not any(
        next(rule_errors(option, value), None) is None for option in rule.any_of
    ):
        yield path, f"{render(value)} is not valid under any of the schemas listed in {_ANY_OF}"


def _chars(limit: int) -> str:
    return f"{limit} character" + ("" if limit == 1 else "s")
