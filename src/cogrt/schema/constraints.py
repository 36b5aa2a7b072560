"""Cog's rules for ``Input()`` constraints, checked once when a predictor loads.

A constraint that does not fit its input's type (``ge`` on a string, too
few ``choices``) is a definition error, as in Cog. So is a default that
contradicts its own input: a value of another type (``x: int = Input(default="a")``)
or outside its ``ge``/``le``/``min_length``/``max_length``/``regex``, which
Cog (its current SDK) refuses at start-up too, with the same messages. A
default missing from its ``choices`` is only worth a warning: Cog serves it.
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
    if f.has_default and f.default is not None:
        _check_default(f, kind, where)
        if f.choices is not None and f.default not in f.choices:
            warnings.append(f"default of input {f.name!r} ({f.default!r}) violates its constraints")


_TYPES: dict[str, type] = {"int": int, "float": float, "str": str, "bool": bool}


def _check_default(f: InputField, kind: str, where: str) -> None:
    """A default must be of its input's type and within its bounds (Cog's messages)."""
    scalar = kind[5:-1] if kind.startswith("list[") else kind
    values = f.default if kind.startswith("list[") and isinstance(f.default, list) else [f.default]
    wanted = _TYPES.get(scalar)
    if wanted is None:  # files, secrets, unions, Any: nothing Cog checks here
        return
    for value in values:
        if not _is_a(value, wanted):
            raise PredictorDefinitionError(
                f"invalid default for {where}: {value!r} is not of type {wanted.__name__}"
            )
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if f.ge is not None and value < f.ge:
                raise PredictorDefinitionError(
                    f"invalid default for {where}: must be at minimum {f.ge}"
                )
            if f.le is not None and value > f.le:
                raise PredictorDefinitionError(
                    f"invalid default for {where}: must be at maximum {f.le}"
                )
        if isinstance(value, str):
            if f.min_length is not None and len(value) < f.min_length:
                raise PredictorDefinitionError(
                    f"default conflicts with min_length={f.min_length} for input: {where}"
                )
            if f.max_length is not None and len(value) > f.max_length:
                raise PredictorDefinitionError(
                    f"default conflicts with max_length={f.max_length} for input: {where}"
                )
            if f.regex is not None and re.search(f.regex, value) is None:  # as requests are
                raise PredictorDefinitionError(f"default not a regex match for input: {where}")


def _is_a(value: object, wanted: type) -> bool:
    """Whether Cog accepts ``value`` as a default of type ``wanted``: converting it must
    not change it (``1`` is a float, ``1.5`` is no int), and numeric text counts as a number."""
    try:
        converted = wanted(value)
    except (TypeError, ValueError):
        return False
    if converted == value:
        return True
    return isinstance(value, str) and wanted in (int, float)
