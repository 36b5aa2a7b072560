"""``Input()``: per-parameter metadata placed as a default in ``predict()``.

Python only lets a parameter carry one default, so Cog puts a ``FieldInfo``
there and the runtime reads the real default out of it. ``FieldInfo.default``
reads ``None`` both when no default was given and when ``None`` was given,
as in Cog; ``default_given`` keeps the difference, which changes the schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["MISSING", "Constraints", "FieldInfo", "Input"]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()
"""Stands for "no default given", in ``Input()`` and in the schema's input fields."""


@dataclass(frozen=True)
class Constraints:
    """What ``Input()`` says about a value besides its default.

    The SDK's ``FieldInfo`` and the schema's resolved ``InputField`` both
    carry these, so a new constraint is declared in one place.
    """

    description: str | None = None
    ge: float | None = None
    le: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    regex: str | None = None
    choices: list[str | int | float] | None = None
    deprecated: bool | None = None
    accept: str | None = None


@dataclass(frozen=True)
class _DefaultFirst:
    """Puts ``default`` first among ``FieldInfo``'s fields, as in Cog.

    Dataclass fields follow the reversed MRO, so a base listed after
    ``Constraints`` contributes its fields before them.
    """

    default: Any = None


@dataclass(frozen=True)
class FieldInfo(Constraints, _DefaultFirst):
    """Metadata for one predictor input, as returned by ``Input()``."""

    default_given: bool = field(default=False, repr=False, compare=False)


def Input(
    default: Any = MISSING,
    *,
    description: str | None = None,
    ge: float | None = None,
    le: float | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    regex: str | None = None,
    choices: Sequence[str | int | float] | None = None,
    deprecated: bool | None = None,
    accept: str | None = None,
    default_factory: Any = None,
    help: str | None = None,
    min: float | None = None,
    max: float | None = None,
    options: Sequence[str | int | float] | None = None,
) -> Any:
    """Describe a predictor input: its default, constraints and documentation.

    ``help``, ``min``, ``max`` and ``options`` are accepted as aliases of
    ``description``, ``ge``, ``le`` and ``choices`` so code written for the
    legacy ``@cog.input`` decorator ports over unchanged.
    """
    if default_factory is not None:
        raise TypeError(
            "Input(default_factory=...) is not supported: give a literal default, "
            "e.g. Input(default=[]) for a list"
        )
    given = default is not MISSING
    return FieldInfo(
        default=default if given else None,
        description=description if description is not None else help,
        ge=ge if ge is not None else min,
        le=le if le is not None else max,
        min_length=min_length,
        max_length=max_length,
        regex=regex,
        choices=list(choices)
        if choices is not None
        else (list(options) if options is not None else None),
        deprecated=deprecated,
        accept=accept,
        default_given=given,
    )
