"""The pre-0.1 API: ``cog.Predictor`` with stacked ``@cog.input(...)`` decorators.

Each decorator records one input spec on the function; the schema layer maps
the specs onto the same input model that ``Input()`` annotations produce, so
validation and OpenAPI are shared with modern predictors.
"""

from __future__ import annotations

import builtins
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cogrt.sdk.predictor import BasePredictor

__all__ = ["InputSpec", "Predictor", "input"]

LEGACY_INPUTS_ATTR = "_inputs"


class _Unspecified:
    def __repr__(self) -> str:
        return "<unspecified>"


UNSPECIFIED: Any = _Unspecified()
_SCALARS = (str, int, float, bool)


@dataclass(frozen=True)
class InputSpec:
    """One ``@cog.input`` declaration, in the legacy decorator's own terms."""

    name: str
    type: type
    default: Any = UNSPECIFIED
    min: float | None = None
    max: float | None = None
    options: list[Any] | None = None
    help: str | None = None


class Predictor(BasePredictor):
    """Legacy base class; ``setup()`` is optional, as in modern Cog."""


def input(
    name: str,
    type: type,
    default: Any = UNSPECIFIED,
    min: float | None = None,
    max: float | None = None,
    options: list[Any] | None = None,
    help: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare one input of a legacy ``predict`` method; stack one per input."""
    is_path = isinstance(type, builtins.type) and issubclass(type, os.PathLike)
    if type not in _SCALARS and not is_path:
        raise ValueError(
            f"input {name!r}: type must be str, int, float, bool or Path, not {type!r}"
        )
    if is_path and default is not UNSPECIFIED and default is not None:
        raise TypeError(f"input {name!r}: a Path input can only default to None")
    if (min is not None or max is not None) and type not in (int, float):
        raise ValueError(f"input {name!r}: min and max are only valid for int and float inputs")
    if options is not None:
        if is_path:
            raise ValueError(f"input {name!r}: options are not supported for Path inputs")
        if len(options) < 2:
            raise ValueError(f"input {name!r}: options must list at least 2 values")
    spec = InputSpec(name, type, default, min, max, list(options) if options else None, help)

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        existing: list[InputSpec] = list(getattr(fn, LEGACY_INPUTS_ATTR, []))
        if any(other.name == name for other in existing):
            raise ValueError(f"input {name!r} is declared twice on {fn.__qualname__}")
        target = getattr(fn, "__wrapped__", fn)

        @functools.wraps(target)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not isinstance(self, Predictor):
                raise TypeError(
                    f"{target.__qualname__} is decorated with @cog.input and must be a "
                    "method of a cog.Predictor subclass"
                )
            return target(self, *args, **kwargs)

        # Decorators apply bottom-up; prepend so the list reads in source order.
        setattr(wrapper, LEGACY_INPUTS_ATTR, [spec, *existing])
        return wrapper

    return decorate
