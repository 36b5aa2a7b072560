"""Return annotations -> the ``Output`` component of the OpenAPI document (spec §7.4).

Outputs may be richer than inputs: iterators, dicts, and objects read field
by field from dataclasses, TypedDicts and pydantic models (recursively, with
cycles cut to ``object``). An annotation with no JSON form is reported as not
understood so the signature can warn instead of failing the predictor.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import Any

import msgspec

from cogrt.schema.annotations import (
    NO_ANNOTATION,
    SCALAR_SCHEMAS,
    is_list,
    scalar_of,
    strip_annotated,
    title_case,
    union_members,
)

__all__ = ["output_schema"]


def output_schema(annotation: Any, *, top_level: bool = True) -> tuple[dict[str, Any], bool]:
    """The ``Output`` component for a return annotation (spec §7.4).

    Returns the schema and whether the annotation was understood; an
    unmappable annotation gives ``{"title": "Output"}`` and the caller warns.
    """
    schema = _output_node(annotation, seen=frozenset())
    if schema is None:
        return ({"title": "Output"} if top_level else {}), False
    if top_level:
        schema = {**schema, "title": "Output"}
    return schema, True


_ITERATORS = (Iterator, AsyncIterator, Generator, AsyncGenerator)


def _output_node(annotation: Any, seen: frozenset[type]) -> dict[str, Any] | None:
    if annotation is NO_ANNOTATION:
        return None
    annotation, opaque = strip_annotated(annotation)
    if opaque:
        return (
            {"type": "array", "items": {"type": "object"}}
            if is_list(annotation)
            else {"type": "object"}
        )
    members, optional = union_members(annotation)
    if optional and len(members) == 1:
        inner = _output_node(members[0], seen)
        return None if inner is None else {**inner, "nullable": True}
    if len(members) != 1:
        return None
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is not None and _is_iterator_origin(origin):
        item = _output_node(args[0], seen) if args else {}
        schema = {"type": "array", "items": item or {}, "x-cog-array-type": "iterator"}
        if getattr(origin, "__name__", "").endswith("ConcatenateIterator"):
            schema["x-cog-array-display"] = "concatenate"
        return schema
    if is_list(annotation):
        item = _output_node(args[0], seen) if args else {"type": "object"}
        return {"type": "array", "items": item if item is not None else {}}
    if origin is dict:
        if len(args) == 2:
            value = _output_node(args[1], seen)
            return {"type": "object", "additionalProperties": value if value is not None else {}}
        return {"type": "object"}
    if annotation is Any or annotation is dict:
        return {"type": "object"}
    scalar = scalar_of(annotation)
    if scalar is not None and scalar.kind != "object":
        return SCALAR_SCHEMAS[scalar.kind]
    if isinstance(annotation, type):
        if annotation in seen:
            return {"type": "object"}
        fields = _object_fields(annotation)
        if fields is not None:
            return _object_schema(fields, seen | {annotation})
    if scalar is not None:
        return {"type": "object"}
    return None


def _is_iterator_origin(origin: Any) -> bool:
    if not isinstance(origin, type):
        return False
    return any(origin is it or issubclass(origin, it) for it in _ITERATORS) and not issubclass(
        origin, (list, dict, str)
    )


class _Field(msgspec.Struct, frozen=True):
    name: str
    annotation: Any
    has_default: bool
    required_hint: bool | None = None


def _object_fields(cls: type) -> list[_Field] | None:
    if typing.is_typeddict(cls):
        hints = typing.get_type_hints(cls, include_extras=True)
        required = getattr(cls, "__required_keys__", frozenset(hints))
        return [_Field(n, _strip_required(a), False, n in required) for n, a in hints.items()]
    model_fields = getattr(cls, "model_fields", None)
    if isinstance(model_fields, dict):
        hints = typing.get_type_hints(cls, include_extras=True)
        return [
            _Field(n, hints.get(n, f.annotation), not f.is_required())
            for n, f in model_fields.items()
        ]
    if dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls, include_extras=True)
        return [
            _Field(
                f.name,
                hints.get(f.name, f.type),
                f.default is not dataclasses.MISSING
                or f.default_factory is not dataclasses.MISSING,
            )
            for f in dataclasses.fields(cls)
        ]
    return None


_REQUIRED_MARKERS = tuple(
    m for m in (getattr(typing, "Required", None), getattr(typing, "NotRequired", None)) if m
)


def _strip_required(annotation: Any) -> Any:
    if typing.get_origin(annotation) in _REQUIRED_MARKERS:
        return typing.get_args(annotation)[0]
    return annotation


def _object_schema(fields: list[_Field], seen: frozenset[type]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in fields:
        schema = _output_node(field.annotation, seen)
        prop = {**(schema or {}), "title": title_case(field.name)}
        properties[field.name] = prop
        nullable = prop.get("nullable") is True
        if field.required_hint is not None:
            is_required = field.required_hint
        else:
            is_required = not nullable and not field.has_default
        if is_required:
            required.append(field.name)
    result: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        result["required"] = required
    return result
