"""One declared input -> an ``InputField`` (spec §6.3-§6.5).

Modern predictors declare inputs as parameters whose defaults may be an
``Input()`` ``FieldInfo`` (cogrt's, or a twin from an installed ``cog``);
legacy ones stack ``@cog.input`` decorators. Both end up as the same
``InputField``, with defaults stored as the JSON they are documented as.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import os
from typing import Any

from cogrt.schema.annotations import Scalar, UnionOf, parse_input_annotation
from cogrt.schema.constraints import check_constraints
from cogrt.schema.fields import InputField
from cogrt.sdk.input import MISSING, Constraints
from cogrt.sdk.legacy import UNSPECIFIED
from cogrt.sdk.legacy import InputSpec as LegacyInputSpec

__all__ = ["legacy_field", "modern_field"]

_AS_GIVEN = tuple(f.name for f in dataclasses.fields(Constraints) if f.name != "choices")
"""The ``Input()`` constraints an input takes as given (``choices`` may come from its type)."""


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


def modern_field(
    index: int,
    param: inspect.Parameter,
    annotation: Any,
    warnings: list[str],
    legacy_none_defaults: bool,
) -> InputField:
    """An input declared as a parameter, its metadata in an ``Input()`` default.

    ``legacy_none_defaults`` (``COGRT_LEGACY_NONE_DEFAULTS``): a ``None``
    default on a type that is not Optional makes the input nullable instead
    of required.
    """
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
    constraints = {key: getattr(info, key, None) for key in _AS_GIVEN} if info is not None else {}
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
    check_constraints(field_, legacy_float_options=False, warnings=warnings)
    return field_


def legacy_field(index: int, spec: LegacyInputSpec) -> InputField:
    """An input declared by a legacy ``@cog.input(...)`` decorator."""
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
    check_constraints(field_, legacy_float_options=True, warnings=[])
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
