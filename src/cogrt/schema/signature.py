"""Inspect a predictor's entry callable once: its inputs, output and execution kind.

Everything the runtime later needs per request (validation types, argument
defaults, which inputs are files) is derived here at load time, so the hot
path never touches ``inspect`` or ``typing``.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any, Literal

import msgspec

from cogrt.errors import PredictorDefinitionError
from cogrt.schema.annotations import NO_ANNOTATION
from cogrt.schema.fields import InputField
from cogrt.schema.output_schema import output_schema
from cogrt.schema.parameters import legacy_field, modern_field
from cogrt.sdk.legacy import LEGACY_INPUTS_ATTR
from cogrt.sdk.legacy import InputSpec as LegacyInputSpec
from cogrt.sdk.predictor import CONCURRENT_ATTR, STREAMING_ATTR

__all__ = ["EntryKind", "Signature", "inspect_entry"]

EntryKind = Literal["sync", "sync_generator", "async", "async_generator"]


class Signature(msgspec.Struct, frozen=True, dict=True):
    """What the entry callable declares, computed once per predictor."""

    inputs: tuple[InputField, ...]
    output: dict[str, Any]
    kind: EntryKind
    streaming: bool = False
    concurrency_max: int | None = None
    passthrough: bool = False
    warnings: tuple[str, ...] = ()
    not_passed: frozenset[str] = frozenset()
    """Declared inputs the entry does not take (a legacy ``@cog.input`` its
    ``predict()`` has no parameter for): validated and documented, not passed."""

    @functools.cached_property
    def arguments(self) -> tuple[InputField, ...]:
        """The inputs passed to the entry as keyword arguments, in declaration order."""
        return tuple(f for f in self.inputs if f.name not in self.not_passed)

    @functools.cached_property
    def takes_files(self) -> bool:
        """Whether any input is a ``Path`` or ``File``: a URL the runtime downloads."""
        return any(f.file_kind in ("path", "file") for f in self.inputs)

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
    not_passed: frozenset[str] = frozenset()
    if legacy_specs is not None:
        inputs = tuple(legacy_field(i, spec) for i, spec in enumerate(legacy_specs))
        not_passed = _legacy_mismatches(target, parameters, legacy_specs, warnings)
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
            modern_field(i, p, hints.get(p.name, NO_ANNOTATION), warnings, legacy_none_defaults)
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
        not_passed=not_passed,
    )


def _legacy_mismatches(
    target: Callable[..., Any],
    parameters: list[inspect.Parameter],
    specs: list[LegacyInputSpec],
    warnings: list[str],
) -> frozenset[str]:
    """The ``@cog.input`` names ``predict()`` cannot take; fail on parameters nothing fills.

    The legacy document's own first example declares an input (``scale``)
    that its ``predict(self, input)`` does not take: such an input is still
    validated and documented, but not passed (one warning each). A parameter
    without a default that no ``@cog.input`` declares could never be given a
    value, so every prediction would fail: a definition error at start-up.
    """
    declared = {spec.name for spec in specs}
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return frozenset()
    takes = {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    for p in parameters:
        no_default = p.default is p.empty and p.kind is not p.VAR_POSITIONAL
        if no_default and p.name not in declared:
            raise PredictorDefinitionError(
                f"{_qualname(target)}() has a parameter {p.name!r} without a default that "
                f"no @cog.input declares: each parameter must correspond to a @cog.input "
                f"annotation (add @cog.input({p.name!r}, type=...)) or have a default"
            )
    skipped = [spec.name for spec in specs if spec.name not in takes]
    for name in skipped:
        warnings.append(
            f"input {name!r} is declared with @cog.input but {_qualname(target)}() has no "
            f"parameter {name!r}: it is validated and documented, but not passed to it"
        )
    return frozenset(skipped)


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
