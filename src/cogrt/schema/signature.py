"""Inspect a predictor's entry callable once: its inputs, output and execution kind.

Everything the runtime later needs per request (validation types, argument
defaults, which inputs are files) is derived here at load time, so the hot
path never touches ``inspect`` or ``typing``.
"""

from __future__ import annotations

import enum
import functools
import inspect
import os
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from cogrt.errors import PredictorDefinitionError
from cogrt.schema.annotations import (
    NO_ANNOTATION,
    ListOf,
    Node,
    Scalar,
    UnionOf,
    parse_input_annotation,
)
from cogrt.schema.output_schema import output_schema
from cogrt.sdk.legacy import LEGACY_INPUTS_ATTR, UNSPECIFIED
from cogrt.sdk.legacy import InputSpec as LegacyInputSpec
from cogrt.sdk.predictor import CONCURRENT_ATTR, STREAMING_ATTR

__all__ = ["MISSING", "EntryKind", "InputField", "Signature", "inspect_entry"]

EntryKind = Literal["sync", "sync_generator", "async", "async_generator"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""The default of an input that has none."""


@dataclass(frozen=True)
class InputField:
    """One input, with Cog's required/nullable/default rules already applied."""

    name: str
    index: int
    node: Node
    nullable: bool
    required: bool
    default: Any = MISSING
    description: str | None = None
    ge: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    regex: str | None = None
    choices: list[Any] | None = None
    deprecated: bool | None = None
    accept: str | None = None

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING

    @functools.cached_property
    def file_kind(self) -> str | None:
        """``path``/``file``/``secret`` when the value needs converting, else None.

        Cached: every request asks it of every input, three times.
        """
        node = self.node.item if isinstance(self.node, ListOf) else self.node
        if isinstance(node, Scalar) and node.kind in ("path", "file", "secret"):
            return node.kind
        return None


@dataclass(frozen=True)
class Signature:
    """What the entry callable declares, computed once per predictor."""

    inputs: tuple[InputField, ...]
    output: dict[str, Any]
    kind: EntryKind
    streaming: bool = False
    concurrency_max: int | None = None
    passthrough: bool = False
    warnings: tuple[str, ...] = field(default=())

    @functools.cached_property
    def file_inputs(self) -> tuple[str, ...]:
        """The names of ``cog.File`` inputs (lists included), in declaration order.

        Cached: the runtime asks it of every prediction, and nearly always
        gets ``()``.
        """
        return tuple(f.name for f in self.inputs if f.file_kind == "file")


def inspect_entry(fn: Callable[..., Any], *, legacy_none_defaults: bool = False) -> Signature:
    """Describe ``fn`` (a bound method or function); raise on Cog definition errors."""
    target = _innermost(fn)
    warnings: list[str] = []
    legacy_specs: list[LegacyInputSpec] | None = getattr(fn, LEGACY_INPUTS_ATTR, None)
    hints = _type_hints(target)
    parameters = [
        p
        for name, p in inspect.signature(target).parameters.items()
        if not (name == "self" and p.kind is p.POSITIONAL_OR_KEYWORD and _is_method(fn))
    ]
    passthrough = False
    if legacy_specs is not None:
        inputs = tuple(_legacy_field(i, spec) for i, spec in enumerate(legacy_specs))
    else:
        named = [p for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        for p in parameters:
            if p.kind is p.VAR_POSITIONAL:
                raise PredictorDefinitionError(
                    f"{_qualname(target)}: *{p.name} is not supported; declare each input "
                    "as a named parameter"
                )
        has_kwargs = any(p.kind is p.VAR_KEYWORD for p in parameters)
        passthrough = has_kwargs and not any(p.name in hints for p in named)
        inputs = tuple(
            _modern_field(i, p, hints.get(p.name, NO_ANNOTATION), warnings, legacy_none_defaults)
            for i, p in enumerate(named)
        )
    output, understood = output_schema(hints.get("return", NO_ANNOTATION))
    if not understood and legacy_specs is None and "return" in hints:
        warnings.append(f"output type {hints['return']!r} is not supported; output is untyped")
    kind = _entry_kind(target)
    streaming = _marked(fn, STREAMING_ATTR)
    iterates = kind.endswith("generator") or output.get("x-cog-array-type") == "iterator"
    if streaming and not iterates:  # spec §4.6: ignore the opt-in rather than fail
        warnings.append("@streaming is ignored: the entry point does not return an iterator")
        streaming = False
    return Signature(
        inputs=inputs,
        output=output,
        kind=kind,
        streaming=streaming,
        concurrency_max=_concurrency(fn),
        passthrough=passthrough,
        warnings=tuple(warnings),
    )


def _innermost(fn: Callable[..., Any]) -> Callable[..., Any]:
    target: Callable[..., Any] = inspect.unwrap(getattr(fn, "__func__", fn))
    closure = getattr(target, "__closure__", None)
    if getattr(target, LEGACY_INPUTS_ATTR, None) is None and closure:
        inner = [c.cell_contents for c in closure if inspect.isfunction(_cell(c))]
        if len(inner) == 1 and _type_hints(inner[0]) and not _type_hints(target):
            return typing.cast(Callable[..., Any], inner[0])
    return target


def _cell(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:
        return None


def _is_method(fn: Any) -> bool:
    return inspect.ismethod(fn) or hasattr(fn, "__self__")


def _marked(fn: Any, attr: str) -> bool:
    return any(getattr(f, attr, False) is True for f in _chain(fn))


def _concurrency(fn: Any) -> int | None:
    for f in _chain(fn):
        value = getattr(f, CONCURRENT_ATTR, None)
        if isinstance(value, int):
            return value
    return None


def _chain(fn: Any) -> list[Any]:
    chain = [fn, getattr(fn, "__func__", fn)]
    current = chain[-1]
    while hasattr(current, "__wrapped__") and len(chain) < 32:
        current = current.__wrapped__
        chain.append(current)
    return chain


def _type_hints(fn: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:
        raise PredictorDefinitionError(
            f"cannot resolve the type annotations of {_qualname(fn)}: {exc}"
        ) from exc


def _qualname(fn: Any) -> str:
    return str(getattr(fn, "__qualname__", fn))


def _entry_kind(fn: Any) -> EntryKind:
    if inspect.isasyncgenfunction(fn):
        return "async_generator"
    if inspect.iscoroutinefunction(fn):
        return "async"
    if inspect.isgeneratorfunction(fn):
        return "sync_generator"
    return "sync"


def _field_info(default: Any) -> Any:
    """The ``FieldInfo`` in a parameter default, cogrt's or a foreign twin."""
    names = ("description", "ge", "le", "min_length", "max_length", "regex", "choices")
    if type(default).__name__ == "FieldInfo" and all(hasattr(default, n) for n in names):
        return default
    return None


def _info_default(info: Any) -> Any:
    given = getattr(info, "default_given", None)
    value = getattr(info, "default", None)
    if given is None:  # a foreign FieldInfo cannot tell "None" from "not given"
        given = (
            value is not None
            and value is not Ellipsis
            and (type(value).__name__ != "PydanticUndefinedType")
        )
    return value if given else MISSING


def _modern_field(
    index: int,
    param: inspect.Parameter,
    annotation: Any,
    warnings: list[str],
    legacy_none_defaults: bool,
) -> InputField:
    name = param.name
    parsed = parse_input_annotation(annotation)
    if parsed.warning:
        warnings.append(f"input {name!r} {parsed.warning}")
    info = _field_info(param.default)
    if info is not None:
        default = _info_default(info)
    elif param.default is inspect.Parameter.empty:
        default = MISSING
    else:
        default = param.default
    constraints = {
        key: getattr(info, key, None) if info is not None else None
        for key in (
            "description",
            "ge",
            "le",
            "min_length",
            "max_length",
            "regex",
            "deprecated",
            "accept",
        )
    }
    choices = getattr(info, "choices", None) if info is not None else None
    if choices is not None:
        choices = list(choices)
    elif parsed.choices is not None:
        choices = parsed.choices
    node = parsed.node
    is_secret = isinstance(node, Scalar) and node.kind == "secret"
    nullable = parsed.optional or (is_secret and default is None)
    if default is None and not nullable:
        if legacy_none_defaults:
            nullable = True
        default = MISSING
    required = default is MISSING and (not nullable or isinstance(node, UnionOf))
    field_ = InputField(
        name=name,
        index=index,
        node=node,
        nullable=nullable,
        required=required,
        default=_plain_default(default),
        choices=choices,
        **constraints,
    )
    _check_constraints(field_, legacy_float_options=False, warnings=warnings)
    return field_


def _legacy_field(index: int, spec: LegacyInputSpec) -> InputField:
    parsed = parse_input_annotation(spec.type)
    nullable = spec.default is None
    default = MISSING if spec.default is UNSPECIFIED else spec.default
    field_ = InputField(
        name=spec.name,
        index=index,
        node=parsed.node,
        nullable=nullable,
        required=default is MISSING,
        default=_plain_default(default),
        description=spec.help,
        ge=spec.min,
        le=spec.max,
        choices=list(spec.options) if spec.options is not None else None,
    )
    _check_constraints(field_, legacy_float_options=True, warnings=[])
    return field_


def _plain_default(value: Any) -> Any:
    """Defaults as the JSON they are documented and recorded as."""
    if value is MISSING or value is None:
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain_default(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if hasattr(value, "get_secret_value"):
        return value.get_secret_value()
    return value


_NUMERIC = ("int", "float")


def _kind(node: Node) -> str:
    if isinstance(node, Scalar):
        return node.kind
    if isinstance(node, ListOf):
        return f"list[{node.item.kind}]"
    return "union"


def _check_constraints(f: InputField, *, legacy_float_options: bool, warnings: list[str]) -> None:
    kind = _kind(f.node)
    where = f"{f.name}: {kind}"
    if (f.ge is not None or f.le is not None) and kind not in _NUMERIC:
        raise PredictorDefinitionError(f"incompatible input type for ge/le: {where}")
    if (f.min_length is not None or f.max_length is not None) and kind != "str":
        raise PredictorDefinitionError(
            f"incompatible input type for min_length/max_length: {where}"
        )
    if f.regex is not None:
        if kind != "str":
            raise PredictorDefinitionError(f"incompatible input type for regex: {where}")
        try:
            re.compile(f.regex)
        except re.error as exc:
            raise PredictorDefinitionError(f"invalid regex for input {f.name}: {exc}") from exc
    if f.accept is not None and f.file_kind not in ("path", "file"):
        raise PredictorDefinitionError(f"accept is only valid on Path or File inputs: {f.name}")
    if f.choices is not None:
        allowed = ("str", "int", "float") if legacy_float_options else ("str", "int")
        if kind not in allowed:
            raise PredictorDefinitionError(f"incompatible input type for choices: {where}")
        if len(f.choices) < 2:
            raise PredictorDefinitionError(
                f"choices must have at least 2 values: {f.name} has {len(f.choices)}"
            )
        if f.ge is not None or f.le is not None:
            raise PredictorDefinitionError(f"choices and ge/le are mutually exclusive: {f.name}")
        if f.min_length is not None or f.max_length is not None:
            raise PredictorDefinitionError(
                f"choices and min_length/max_length are mutually exclusive: {f.name}"
            )
        expected: tuple[type, ...] = {"str": (str,), "int": (int,), "float": (int, float)}[kind]
        wrong = [c for c in f.choices if isinstance(c, bool) or not isinstance(c, expected)]
        if wrong:
            raise PredictorDefinitionError(
                f"choices for {f.name} must all be {kind}, got {wrong[0]!r}"
            )
    if f.has_default and f.default is not None and not _default_fits(f):
        warnings.append(f"default of input {f.name!r} ({f.default!r}) violates its constraints")


def _default_fits(f: InputField) -> bool:
    value = f.default
    if f.choices is not None and value not in f.choices:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if f.ge is not None and value < f.ge:
            return False
        if f.le is not None and value > f.le:
            return False
    if isinstance(value, str):
        if f.min_length is not None and len(value) < f.min_length:
            return False
        if f.max_length is not None and len(value) > f.max_length:
            return False
        if f.regex is not None and re.search(f.regex, value) is None:
            return False
    return True
