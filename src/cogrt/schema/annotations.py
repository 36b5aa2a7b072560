"""Python annotations -> the small type model cogrt validates and documents.

Input annotations become a tree of ``Scalar``/``ListOf``/``UnionOf`` nodes that
drive three things: the OpenAPI fragment, the msgspec validation type and the
conversion to Python arguments. Cog's own classes (from an installed ``cog``
distribution) are recognised by shape, not identity, so models work whichever
``cog`` they imported.
"""

from __future__ import annotations

import enum
import io
import os
import types
import typing
from typing import Any, Literal, TypeAlias, Union

import msgspec

from cogrt.sdk.types import Secret

__all__ = [
    "NO_ANNOTATION",
    "SCALAR_SCHEMAS",
    "ListOf",
    "Node",
    "ParsedInput",
    "Scalar",
    "ScalarKind",
    "UnionOf",
    "input_fragment",
    "is_list",
    "is_secret_type",
    "parse_input_annotation",
    "scalar_of",
    "strip_annotated",
    "title_case",
    "union_members",
]

ScalarKind = Literal["str", "int", "float", "bool", "path", "file", "secret", "object", "any"]
_PRIMITIVES: dict[Any, ScalarKind] = {str: "str", int: "int", float: "float", bool: "bool"}
_NONE_TYPES = (type(None), None)


class Scalar(msgspec.Struct, frozen=True):
    """A single value: a JSON primitive, a file-ish string, an object, or anything."""

    kind: ScalarKind


class ListOf(msgspec.Struct, frozen=True):
    """``list[item]``; a bare ``list`` has items of kind ``object``."""

    item: Scalar


class UnionOf(msgspec.Struct, frozen=True):
    """A JSON-native union; each member is a primitive, object or list of primitives."""

    members: tuple[Scalar | ListOf, ...]


Node: TypeAlias = Scalar | ListOf | UnionOf


class ParsedInput(msgspec.Struct, frozen=True):
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
    annotation, opaque = strip_annotated(annotation)
    members, optional = union_members(annotation)
    if len(members) > 1:
        nodes = [_member_node(m) for m in members]
        if all(n is not None for n in nodes):
            return ParsedInput(UnionOf(tuple(typing.cast(list[Scalar | ListOf], nodes))), optional)
        return ParsedInput(ANY, optional, warning=f"union {annotation!r} is not supported")
    if not members:
        return ParsedInput(ANY, True, warning="is annotated None")
    target, inner_opaque = strip_annotated(members[0])
    if opaque or inner_opaque:
        return ParsedInput(ListOf(OBJECT) if is_list(target) else OBJECT, optional)
    choices = _choices_of(target)
    if choices is not None:
        kind = _choice_kind(choices)
        if kind is None:
            return ParsedInput(ANY, optional, warning=f"{target!r} mixes value types")
        return ParsedInput(Scalar(kind), optional, choices=choices)
    if is_list(target):
        args = typing.get_args(target)
        if not args:
            return ParsedInput(ListOf(OBJECT), optional)
        item, item_opaque = strip_annotated(args[0])
        scalar = OBJECT if item_opaque else scalar_of(item)
        if scalar is None:
            return ParsedInput(ANY, optional, warning=f"{target!r} is not supported")
        return ParsedInput(ListOf(scalar), optional)
    scalar = scalar_of(target)
    if scalar is None:
        return ParsedInput(ANY, optional, warning=f"type {target!r} is not supported")
    return ParsedInput(scalar, optional)


NO_ANNOTATION: Any = object()
"""Stands for "no annotation"; the signature module passes it in."""


def strip_annotated(annotation: Any) -> tuple[Any, bool]:
    """``Annotated[T, ...]`` -> ``(T, whether cog.Opaque is among the metadata)``."""
    if typing.get_origin(annotation) is typing.Annotated:
        base, *metadata = typing.get_args(annotation)
        return base, any(repr(m) == "cog.Opaque" for m in metadata)
    return annotation, False


def union_members(annotation: Any) -> tuple[list[Any], bool]:
    """A union's members other than None, and whether None was one; else ``[annotation]``."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        args = typing.get_args(annotation)
        members = [a for a in args if a not in _NONE_TYPES]
        return members, len(members) != len(args)
    return [annotation], False


def _member_node(member: Any) -> Scalar | ListOf | None:
    member, _ = strip_annotated(member)
    if is_list(member):
        args = typing.get_args(member)
        if not args:
            return ListOf(OBJECT)
        item = scalar_of(args[0])
        return ListOf(item) if item is not None and item.kind in _JSON_NATIVE else None
    scalar = scalar_of(member)
    return scalar if scalar is not None and scalar.kind in (*_JSON_NATIVE, "object") else None


_JSON_NATIVE = ("str", "int", "float", "bool")


def is_list(annotation: Any) -> bool:
    """``list`` or ``list[T]``."""
    return annotation is list or typing.get_origin(annotation) is list


def scalar_of(annotation: Any) -> Scalar | None:
    """The single-value kind of a type, or None when it is not one cogrt knows."""
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


SCALAR_SCHEMAS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "path": {"type": "string", "format": "uri"},
    "file": {"type": "string", "format": "uri"},
    "secret": {"type": "string", "format": "password", "writeOnly": True, "x-cog-secret": True},
}
"""The JSON schema of each file-ish or primitive kind, in inputs and outputs alike."""


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
    return dict(SCALAR_SCHEMAS[node.kind])
