"""Python annotations -> the small type model cogrt validates and documents.

Input annotations become a tree of ``Scalar``/``ListOf``/``UnionOf`` nodes that
drive three things: the OpenAPI fragment, the msgspec validation type and the
conversion to Python arguments. Cog's own classes (from an installed ``cog``
distribution) are recognised by shape, not identity, so models work whichever
``cog`` they imported.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import os
import types
import typing
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, Union

from cogrt.sdk.types import Secret

__all__ = [
    "NO_ANNOTATION",
    "ListOf",
    "Node",
    "ParsedInput",
    "Scalar",
    "ScalarKind",
    "UnionOf",
    "parse_input_annotation",
    "title_case",
]

ScalarKind = Literal["str", "int", "float", "bool", "path", "file", "secret", "object", "any"]
_PRIMITIVES: dict[Any, ScalarKind] = {str: "str", int: "int", float: "float", bool: "bool"}
_NONE_TYPES = (type(None), None)


@dataclass(frozen=True)
class Scalar:
    """A single value: a JSON primitive, a file-ish string, an object, or anything."""

    kind: ScalarKind


@dataclass(frozen=True)
class ListOf:
    """``list[item]``; a bare ``list`` has items of kind ``object``."""

    item: Scalar


@dataclass(frozen=True)
class UnionOf:
    """A JSON-native union; each member is a primitive, object or list of primitives."""

    members: tuple[Scalar | ListOf, ...]


Node: TypeAlias = Scalar | ListOf | UnionOf


@dataclass(frozen=True)
class ParsedInput:
    """What an input annotation says, before ``Input()`` metadata is applied."""

    node: Node
    optional: bool
    choices: list[Any] | None = None
    warning: str | None = None


ANY = Scalar("any")
OBJECT = Scalar("object")


def title_case(name: str) -> str:
    """Cog's titles: split on ``_``, upper-case each part's first letter."""
    return " ".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def parse_input_annotation(annotation: Any) -> ParsedInput:
    """Map one parameter annotation onto the input type model (spec §6.3)."""
    if annotation is NO_ANNOTATION:
        return ParsedInput(ANY, False, warning="has no type annotation; any JSON value accepted")
    annotation, opaque = _strip_annotated(annotation)
    members, optional = _union_members(annotation)
    if len(members) > 1:
        nodes = [_member_node(m) for m in members]
        if all(n is not None for n in nodes):
            return ParsedInput(UnionOf(tuple(typing.cast(list[Scalar | ListOf], nodes))), optional)
        return ParsedInput(ANY, optional, warning=f"union {annotation!r} is not supported")
    if not members:
        return ParsedInput(ANY, True, warning="is annotated None")
    target, inner_opaque = _strip_annotated(members[0])
    if opaque or inner_opaque:
        return ParsedInput(ListOf(OBJECT) if _is_list(target) else OBJECT, optional)
    choices = _choices_of(target)
    if choices is not None:
        kind = _choice_kind(choices)
        if kind is None:
            return ParsedInput(ANY, optional, warning=f"{target!r} mixes value types")
        return ParsedInput(Scalar(kind), optional, choices=choices)
    if _is_list(target):
        args = typing.get_args(target)
        if not args:
            return ParsedInput(ListOf(OBJECT), optional)
        item, item_opaque = _strip_annotated(args[0])
        scalar = OBJECT if item_opaque else _scalar(item)
        if scalar is None:
            return ParsedInput(ANY, optional, warning=f"{target!r} is not supported")
        return ParsedInput(ListOf(scalar), optional)
    scalar = _scalar(target)
    if scalar is None:
        return ParsedInput(ANY, optional, warning=f"type {target!r} is not supported")
    return ParsedInput(scalar, optional)


NO_ANNOTATION: Any = object()
"""Stands for "no annotation"; the signature module passes it in."""


def _strip_annotated(annotation: Any) -> tuple[Any, bool]:
    if typing.get_origin(annotation) is typing.Annotated:
        base, *metadata = typing.get_args(annotation)
        return base, any(repr(m) == "cog.Opaque" for m in metadata)
    return annotation, False


def _union_members(annotation: Any) -> tuple[list[Any], bool]:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        args = typing.get_args(annotation)
        members = [a for a in args if a not in _NONE_TYPES]
        return members, len(members) != len(args)
    return [annotation], False


def _member_node(member: Any) -> Scalar | ListOf | None:
    member, _ = _strip_annotated(member)
    if _is_list(member):
        args = typing.get_args(member)
        if not args:
            return ListOf(OBJECT)
        item = _scalar(args[0])
        return ListOf(item) if item is not None and item.kind in _JSON_NATIVE else None
    scalar = _scalar(member)
    return scalar if scalar is not None and scalar.kind in (*_JSON_NATIVE, "object") else None


_JSON_NATIVE = ("str", "int", "float", "bool")


def _is_list(annotation: Any) -> bool:
    return annotation is list or typing.get_origin(annotation) is list


def _scalar(annotation: Any) -> Scalar | None:
    if annotation in _PRIMITIVES:
        return Scalar(_PRIMITIVES[annotation])
    if annotation is Any or annotation is dict or typing.get_origin(annotation) is dict:
        return OBJECT
    if typing.is_typeddict(annotation):
        return OBJECT
    if not isinstance(annotation, type):
        return None
    if is_secret_type(annotation):
        return Scalar("secret")
    if issubclass(annotation, os.PathLike):
        return Scalar("path")
    if issubclass(annotation, io.IOBase):
        return Scalar("file")
    return None


def is_secret_type(cls: type) -> bool:
    """cogrt's ``Secret`` or a twin from an installed ``cog`` distribution."""
    return issubclass(cls, Secret) or (
        cls.__name__ == "Secret" and hasattr(cls, "get_secret_value")
    )


def _choices_of(annotation: Any) -> list[Any] | None:
    if typing.get_origin(annotation) is Literal:
        return list(typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [member.value for member in annotation]
    return None


def _choice_kind(choices: list[Any]) -> ScalarKind | None:
    kinds = {_PRIMITIVES.get(type(choice)) for choice in choices}
    if len(kinds) == 1 and None not in kinds:
        return kinds.pop()
    if kinds == {"int", "float"}:
        return "float"
    return None


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
    annotation, opaque = _strip_annotated(annotation)
    if opaque:
        return (
            {"type": "array", "items": {"type": "object"}}
            if _is_list(annotation)
            else {"type": "object"}
        )
    members, optional = _union_members(annotation)
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
    if _is_list(annotation):
        item = _output_node(args[0], seen) if args else {"type": "object"}
        return {"type": "array", "items": item if item is not None else {}}
    if origin is dict:
        if len(args) == 2:
            value = _output_node(args[1], seen)
            return {"type": "object", "additionalProperties": value if value is not None else {}}
        return {"type": "object"}
    if annotation is Any or annotation is dict:
        return {"type": "object"}
    scalar = _scalar(annotation)
    if scalar is not None and scalar.kind != "object":
        return _SCALAR_OUTPUT[scalar.kind]
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


_SCALAR_OUTPUT: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "path": {"type": "string", "format": "uri"},
    "file": {"type": "string", "format": "uri"},
    "secret": {"type": "string", "format": "password", "writeOnly": True, "x-cog-secret": True},
}


@dataclass(frozen=True)
class _Field:
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


def input_fragment(node: Node) -> dict[str, Any]:
    """The JSON-schema fragment of an input type (spec §6.3), before metadata."""
    if isinstance(node, UnionOf):
        return {"anyOf": [input_fragment(member) for member in node.members]}
    if isinstance(node, ListOf):
        return {"type": "array", "items": input_fragment(node.item)}
    if node.kind == "any":
        return {}
    if node.kind == "object":
        return {"type": "object"}
    return dict(_SCALAR_OUTPUT[node.kind])
