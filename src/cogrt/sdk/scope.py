"""Per-prediction scope: metrics recorded by user code, and the request context.

The current scope travels in a ``ContextVar``. The runtime sets it before it
calls user code (and ``context.run`` carries it onto the worker thread), so
``current_scope()`` finds the right prediction under any concurrency without
globals. Outside a prediction every call is a silent no-op, as in Cog.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, Literal

__all__ = ["MetricEvent", "Metrics", "Scope", "current_scope", "set_current_scope"]

WireMode = Literal["replace", "increment", "append"]
MetricEvent = tuple[str, Any, WireMode]
"""``(key, value, mode)`` as sent in SSE ``metric`` events; value None = deleted."""

_MODES: dict[str | None, WireMode] = {
    None: "replace",
    "replace": "replace",
    "incr": "increment",
    "increment": "increment",
    "append": "append",
}
_VALUE_TYPES = (bool, int, float, str, list, dict)


class Metrics:
    """Dict-like access to a scope's metrics (``scope.metrics[key] = value``)."""

    def __init__(self, scope: Scope) -> None:
        self._scope = scope

    def record(self, key: str, value: Any, mode: str | None = None) -> None:
        self._scope.record_metric(key, value, mode)

    def delete(self, key: str) -> None:
        self._scope.record_metric(key, None)

    def __setitem__(self, key: str, value: Any) -> None:
        self._scope.record_metric(key, value)

    def __delitem__(self, key: str) -> None:
        self._scope.record_metric(key, None)

    def __getitem__(self, key: str) -> Any:
        node: Any = self._scope.snapshot()
        for part in key.split("."):
            node = node[part]
        return node

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._scope._types


class Scope:
    """The metrics and context of one prediction.

    ``listener`` is told of every change so the runtime can stream ``metric``
    events; it is called on whatever thread user code runs on.
    """

    def __init__(
        self,
        context: Mapping[str, str] | None = None,
        listener: Callable[[MetricEvent], None] | None = None,
    ) -> None:
        self.context: dict[str, str] = dict(context or {})
        self._values: dict[str, Any] = {}
        self._types: dict[str, type] = {}
        self._listener = listener

    @property
    def metrics(self) -> Metrics:
        """A view made per access: holding one would make every scope a reference cycle."""
        return Metrics(self)

    def detach(self) -> None:
        """Stop notifying the listener (the prediction is over); values stay readable."""
        self._listener = None

    def record_metric(self, key: str, value: Any, mode: str | None = None) -> None:
        """Record ``value`` under the dotted ``key``; ``None`` deletes it.

        A metric is bookkeeping and never fails a prediction over what is
        already stored: ``replace`` overwrites a value of any type, and an
        ``incr`` that cannot add (a non-number on either side) leaves the
        metric as it was and writes its error to the prediction's logs. A
        call that is wrong in itself (mode, name, value type) still raises.
        """
        if mode not in _MODES:
            raise TypeError(
                f"Invalid metric mode: {mode!r}. Expected 'replace', 'incr', or 'append'."
            )
        wire_mode = _MODES[mode]
        _check_name(key, deleting=value is None)
        if value is None:
            self._delete(key)
            self._notify((key, None, wire_mode))
            return
        _check_value(value)
        kind = type(value)
        if wire_mode == "increment":
            current = self._get(key)
            if kind not in (int, float):
                return _not_recorded(
                    key, f"Increment mode requires int or float, got {kind.__name__}"
                )
            if current is not None and type(current) not in (int, float):
                return _not_recorded(key, f"cannot increment a {type(current).__name__}")
            value = (current or 0) + value
            kind = type(value)
        elif wire_mode == "append":
            current = self._get(key)
            value = (
                [value]
                if current is None
                else ([*current, value] if isinstance(current, list) else [current, value])
            )
            kind = list
        self._types[key] = kind
        self._set(key, value)
        self._notify((key, value, wire_mode))

    def snapshot(self) -> dict[str, Any]:
        """A deep-enough copy of the metrics, safe to encode on another thread."""
        copied: dict[str, Any] = _copy(self._values)
        return copied

    def _notify(self, event: MetricEvent) -> None:
        if self._listener is not None:
            self._listener(event)

    def _get(self, key: str) -> Any:
        node: Any = self._values
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node

    def _set(self, key: str, value: Any) -> None:
        *parents, leaf = key.split(".")
        node = self._values
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[leaf] = value

    def _delete(self, key: str) -> None:
        *parents, leaf = key.split(".")
        node: Any = self._values
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
        self._types.pop(key, None)


class _NoopScope(Scope):
    """The scope outside any prediction: accepts everything, keeps nothing."""

    def record_metric(self, key: str, value: Any, mode: str | None = None) -> None:
        return None


_NOOP = _NoopScope()
_current: ContextVar[Scope] = ContextVar("cogrt_scope", default=_NOOP)


def current_scope() -> Scope:
    """The running prediction's scope, or a no-op scope; never ``None``."""
    return _current.get()


def set_current_scope(scope: Scope) -> None:
    """Make ``scope`` current in this context: the runtime calls it before user code runs."""
    _current.set(scope)


def _check_name(key: Any, *, deleting: bool) -> None:
    if not isinstance(key, str):
        raise TypeError(f"metric name must be a string, got {type(key).__name__}")
    if not deleting:
        if key == "predict_time":
            raise ValueError("'predict_time' is reserved by the runtime")
        if key.startswith("cog."):
            raise ValueError("the 'cog.' prefix is reserved for system metrics")
    if not key:
        raise ValueError("metric name must not be empty")
    if len(key) > 128:
        raise ValueError(f"metric name must be 128 characters or fewer (got {len(key)} characters)")
    segments = key.split(".")
    if len(segments) > 4:
        raise ValueError(
            f"metric name must have at most 4 dot-separated segments (got {len(segments)})"
        )
    if key.startswith("."):
        raise ValueError("metric name must not start with a dot")
    if key.endswith("."):
        raise ValueError("metric name must not end with a dot")
    if "" in segments:
        raise ValueError("metric name must not contain empty segments (consecutive dots)")
    for segment in segments:
        if not ("a" <= segment[0].lower() <= "z"):
            raise ValueError(f"metric name segment '{segment}' must start with a letter")
        if "__" in segment:
            raise ValueError(
                f"metric name segment '{segment}' must not contain consecutive underscores"
            )
        for char in segment:
            if not (char.isascii() and (char.isalnum() or char == "_")):
                raise ValueError(
                    f"metric name segment '{segment}' contains invalid character '{char}'"
                )
        if segment.endswith("_"):
            raise ValueError(f"metric name segment '{segment}' must end with a letter or digit")


def _check_value(value: Any) -> None:
    if type(value) not in _VALUE_TYPES:
        raise TypeError(
            f"Unsupported metric value type: {type(value).__name__}. "
            "Expected bool, int, float, str, list, or dict."
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"metric value must be a finite number, got {value}")


def _not_recorded(key: str, reason: str) -> None:
    """Say why a metric was left unchanged, in the prediction's logs (its stderr)."""
    print(f"cogrt: metric {key!r} was not recorded: {reason}", file=sys.stderr)


def _copy(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_copy(v) for v in node]
    return node
