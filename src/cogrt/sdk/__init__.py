"""The names model code imports, re-exported by the ``cog`` compatibility module.

Deprecated names (``emit_metric``, ``ExperimentalFeatureWarning``) are served
lazily by ``__getattr__`` so that only code which still uses them sees the
one-time deprecation notice.
"""

from __future__ import annotations

import logging
from typing import Any

from cogrt.errors import CancelationException, ExperimentalFeatureWarning
from cogrt.sdk.input import FieldInfo, Input
from cogrt.sdk.legacy import Predictor, input
from cogrt.sdk.model import BaseModel
from cogrt.sdk.predictor import BasePredictor, BaseRunner, concurrent, streaming
from cogrt.sdk.scope import current_scope
from cogrt.sdk.types import (
    AsyncConcatenateIterator,
    ConcatenateIterator,
    File,
    Opaque,
    Path,
    Secret,
    URLFile,
    URLPath,
)

__all__ = [
    "AsyncConcatenateIterator",
    "BaseModel",
    "BasePredictor",
    "BaseRunner",
    "CancelationException",
    "ConcatenateIterator",
    "FieldInfo",
    "File",
    "Input",
    "Opaque",
    "Path",
    "Predictor",
    "Secret",
    "URLFile",
    "URLPath",
    "__version__",
    "concurrent",
    "current_scope",
    "input",
    "streaming",
]

__version__ = "0.22.0"
"""The version of Cog's Python API that cogrt emulates."""

_DEPRECATION_NOTICES = {
    "emit_metric": (
        "cog: emit_metric() is deprecated and will be removed in a future release. "
        "Use current_scope().record_metric(name, value) instead."
    ),
    "ExperimentalFeatureWarning": (
        "cog: ExperimentalFeatureWarning is deprecated and will be removed in a future "
        "release. Remove `ExperimentalFeatureWarning` from your imports and any associated "
        "`warnings.filterwarnings(...)` calls."
    ),
}
_noticed: set[str] = set()
_log = logging.getLogger(__name__)


def _emit_metric(name: str, value: Any) -> None:
    """Deprecated alias of ``current_scope().record_metric(name, value)``."""
    current_scope().record_metric(name, value)


def deprecated_attribute(name: str) -> Any:
    """Return a deprecated name, logging its notice once per process.

    A warning, so it reaches stderr even where logging was never configured
    (Python's last-resort handler); under the CLI it is one of cogrt's log lines.
    """
    if name not in _noticed:
        _noticed.add(name)
        _log.warning(_DEPRECATION_NOTICES[name])
    return _emit_metric if name == "emit_metric" else ExperimentalFeatureWarning


def __getattr__(name: str) -> Any:
    if name in _DEPRECATION_NOTICES:
        return deprecated_attribute(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
