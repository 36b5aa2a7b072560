"""Rules -> msgspec types, and msgspec's errors -> Cog's error entries.

msgspec validates a whole request in one pass, but only for what its type
system can say. ``msgspec_type`` answers None for the rest (float enums,
unions msgspec refuses, such as two array variants); those properties are
decoded as ``Any`` and checked by :func:`cogrt.schema.jsonrules.rule_errors`.
"""

from __future__ import annotations

import functools
import operator
import re
from typing import Annotated, Any, Literal

import msgspec

from cogrt.schema.jsonrules import Rule
from cogrt.schema.uris import FILE_URL_PATTERN

__all__ = ["field_error", "field_error_from_msgspec", "msgspec_type"]


def msgspec_type(rule: Rule) -> Any | None:
    """The msgspec type accepting exactly what ``rule`` accepts, or None.

    ``number`` becomes ``int | float`` so an integral JSON number stays an
    ``int``; ``null`` is accepted where the schema's ``type`` says so, and
    where it says ``nullable: true``.
    """
    try:
        typ = _build(rule)
        if typ is not None:
            msgspec.json.Decoder(typ)  # raises TypeError for unions msgspec cannot decode
    except TypeError:
        return None
    return typ


def _build(rule: Rule) -> Any | None:
    typ = _build_non_null(rule)
    if typ is None or typ is Any or not rule.nullable:
        return typ
    return typ | None


def _build_non_null(rule: Rule) -> Any | None:
    if rule.any_of is not None:
        if rule.types or rule.enum is not None:
            return None
        members = [_build(option) for option in rule.any_of]
        if any(m is None for m in members):
            return None
        return Any if Any in members else _union(members)
    if not rule.types:
        return Any if rule.enum is None else None
    members = [_single(rule, name) for name in rule.types]
    if any(m is None for m in members):
        return None
    return _union(members)


def _single(rule: Rule, name: str) -> Any | None:
    if rule.enum is not None:
        wanted = {"string": str, "integer": int}.get(name)
        exact = wanted is not None and all(type(v) is wanted for v in rule.enum)
        return Literal[tuple(rule.enum)] if exact else None
    if name == "string":
        if rule.file_url and rule.pattern is not None:
            return None  # msgspec takes one pattern; the rules check both
        pattern = FILE_URL_PATTERN if rule.file_url else rule.pattern
        return _constrained(
            str,
            min_length=rule.min_length,
            max_length=rule.max_length,
            pattern=pattern.pattern if isinstance(pattern, re.Pattern) else pattern,
        )
    if name == "integer":
        return _constrained(int, ge=rule.minimum, le=rule.maximum)
    if name == "number":
        return _constrained(int, ge=rule.minimum, le=rule.maximum) | _constrained(
            float, ge=rule.minimum, le=rule.maximum
        )
    if name == "array":
        item = Any if rule.items is None else _build(rule.items)
        return None if item is None else list[item]  # type: ignore[valid-type]
    return {"boolean": bool, "object": dict[str, Any], "null": type(None)}[name]


def _union(members: list[Any]) -> Any:
    return functools.reduce(operator.or_, members)


def _constrained(base: type, **constraints: Any) -> Any:
    given = {key: value for key, value in constraints.items() if value is not None}
    return Annotated[base, msgspec.Meta(**given)] if given else base


def field_error(field: str, message: str) -> dict[str, Any]:
    """One §8.2 detail entry; ``loc`` is always three elements long."""
    return {"loc": ["body", "input", field], "msg": message, "type": "value_error"}


def field_error_from_msgspec(
    exc: msgspec.ValidationError, names: tuple[str, ...]
) -> dict[str, Any]:
    """An entry from msgspec's own message, for a value the rules let through.

    msgspec says ``Expected `int`, got `float` - at `$.n[0]```; the location
    becomes Cog's ``n/0`` and the message keeps msgspec's wording.
    """
    message, _, where = str(exc).rpartition(" - at `")
    if not message:
        return field_error("__root__", str(exc))
    path = where.rstrip("`").removeprefix("$.")
    name = max(
        (n for n in names if path == n or path.startswith((n + "[", n + "."))),
        key=len,
        default="",
    )
    rest = path[len(name) :].replace("[", "/").replace("]", "").replace(".", "/")
    return field_error((name or "__root__") + rest, message)
