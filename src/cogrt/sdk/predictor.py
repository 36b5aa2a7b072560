"""Base classes and decorators for predictor classes.

Everything here is optional for model code: cogrt also serves plain classes
and functions. The bases exist so that Cog models import unchanged and get
``self.record_metric`` / ``self.scope``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path as _StdPath
from typing import Any, TypeVar, overload

from cogrt.errors import PredictorDefinitionError
from cogrt.sdk.scope import Scope, current_scope

__all__ = ["BasePredictor", "BaseRunner", "concurrent", "streaming"]

_F = TypeVar("_F", bound=Callable[..., Any])

STREAMING_ATTR = "__cog_streaming__"
CONCURRENT_ATTR = "__cog_concurrent_max__"


class BaseRunner:
    """Base for model classes whose entry point is ``run()``."""

    def setup(self, weights: _StdPath | str | None = None) -> None:
        """Load the model once, before the first prediction."""

    def run(self, **kwargs: Any) -> Any:
        """Run one prediction; subclasses define it with typed parameters."""
        raise PredictorDefinitionError(f"{type(self).__name__} must define run() or predict()")

    def predict(self, **kwargs: Any) -> Any:
        """Bridge for callers that invoke ``predict()`` on a ``run()`` model."""
        return self.run(**kwargs)

    @property
    def scope(self) -> Scope:
        """The current prediction's scope (a no-op scope outside predictions)."""
        return current_scope()

    def record_metric(self, key: str, value: Any, mode: str = "replace") -> None:
        """Record a metric on the current prediction; see ``Scope.record_metric``."""
        current_scope().record_metric(key, value, mode)


class BasePredictor(BaseRunner):
    """Base for model classes whose entry point is ``predict()`` (Cog's older name)."""


@overload
def streaming(fn: _F, /) -> _F: ...
@overload
def streaming() -> Callable[[_F], _F]: ...
def streaming(fn: _F | None = None, /) -> Any:
    """Opt the decorated entry method into server-sent events (``@streaming``)."""

    def mark(target: _F) -> _F:
        setattr(target, STREAMING_ATTR, True)
        return target

    return mark(fn) if fn is not None else mark


def concurrent(fn: Any = None, /, *, max: int = 1) -> Any:
    """Declare how many predictions an async entry method may run at once.

    ``cog.yaml``'s ``concurrency.max`` and ``COG_MAX_CONCURRENCY`` take
    precedence; this is the default when neither is set.
    """
    if isinstance(max, bool) or not isinstance(max, int):
        raise TypeError("concurrent max must be an integer")
    if max < 1:
        raise ValueError("concurrent max must be at least 1")

    def mark(target: Any) -> Any:
        if not callable(target):
            raise TypeError("concurrent must be used as @concurrent or @concurrent(max=...)")
        is_async = inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target)
        if max > 1 and not is_async:
            raise TypeError("concurrent max greater than 1 requires an async function")
        setattr(target, CONCURRENT_ATTR, max)
        return target

    if fn is None:
        return mark
    return mark(fn)
