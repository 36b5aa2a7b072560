"""Cog's rules for ``Input()`` constraints, checked once when a predictor loads.

A constraint that does not fit its input's type (``ge`` on a string, too
few ``choices``) is a definition error, as in Cog; a default that breaks its
own constraints is only worth a warning, since Cog serves it anyway.
"""

from __future__ import annotations

import re

from cogrt.errors import PredictorDefinitionError
from cogrt.schema.annotations import ListOf, Node, Scalar
from cogrt.schema.fields import InputField

__all__ = ["check_constraints"]

_NUMERIC = ("int", "float")


def _kind(node: Node) -> str:
    if isinstance(node, Scalar):
        return node.kind
    if isinstance(node, ListOf):
        return f"list[{node.item.kind}]"
    return "union"


def check_constraints(f: InputField, *, legacy_float_options: bool, warnings: list[str]) -> None:
    """Raise ``PredictorDefinitionError`` where Cog refuses a constraint; warn on a bad default.

    ``legacy_float_options``: ``@cog.input(options=...)`` also allowed floats.
    """
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
