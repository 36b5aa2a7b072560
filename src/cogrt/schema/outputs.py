"""Python output values -> JSON data (spec §10.1-§10.2), without IO.

Predictors return whatever they like: models, dataclasses, enums, numpy
scalars, paths. :func:`to_jsonable` turns that into plain JSON data once, on
the thread that produced it, and hands file-like values to a caller-supplied
hook (the IO shell decides between data URIs and uploads). Anything that has
no JSON form fails loudly here rather than half-way through writing a response.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import importlib
import io
import math
import os
import types
from collections.abc import Callable
from typing import Any

from cogrt.errors import OutputEncodingError
from cogrt.schema.annotations import is_secret_type
from cogrt.sdk.types import SECRET_MASK

__all__ = ["to_jsonable"]

FileHook = Callable[[Any], Any]
_PLAIN = (str, int, bool, type(None))


def to_jsonable(value: Any, on_file: FileHook) -> Any:
    """``value`` as JSON data; files anywhere inside go through ``on_file``.

    Raises ``OutputEncodingError`` naming the offending type, or for NaN and
    infinities, which JSON cannot carry.
    """
    if type(value) in _PLAIN:
        return value
    return _convert(value, on_file)


def _convert(value: Any, on_file: FileHook) -> Any:
    cls = type(value)
    if cls in _PLAIN:
        return value
    if cls is float:
        return _finite(value)
    if cls is dict:
        return {_key(k): _convert(v, on_file) for k, v in value.items()}
    if cls is list or cls is tuple:
        return [_convert(item, on_file) for item in value]
    if isinstance(value, enum.Enum):
        return _convert(value.value, on_file)
    if isinstance(value, (os.PathLike, io.IOBase)):
        return on_file(value)
    if is_secret_type(cls):
        return SECRET_MASK
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _finite(float(value))
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, dict):
        return {_key(k): _convert(v, on_file) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset, types.GeneratorType)):
        return [_convert(item, on_file) for item in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if cls.__module__ == "numpy":
        return _numpy(value, on_file)
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # pydantic v2
        return _convert(dump(), on_file)
    legacy_dict = getattr(value, "dict", None)
    if callable(legacy_dict):  # pydantic v1
        return _convert(legacy_dict(), on_file)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _convert(getattr(value, f.name), on_file) for f in dataclasses.fields(value)
        }
    raise OutputEncodingError(f"Object of type {cls.__name__} is not JSON serializable")


def _finite(value: float) -> float:
    if math.isfinite(value):
        return value
    raise OutputEncodingError(f"output contains {value!r}, which JSON cannot represent")


def _key(key: Any) -> str:
    """A dict key as ``json.dumps`` writes it."""
    if isinstance(key, str):
        return str.__str__(key)
    if key is True or key is False or key is None:
        return {True: "true", False: "false", None: "null"}[key]
    if isinstance(key, int):
        return int.__repr__(key)
    if isinstance(key, float):
        return _float_key(key)
    raise OutputEncodingError(
        f"keys must be str, int, float, bool or None, not {type(key).__name__}"
    )


def _float_key(key: float) -> str:
    if math.isnan(key):
        return "NaN"
    if math.isinf(key):
        return "Infinity" if key > 0 else "-Infinity"
    return float.__repr__(key)


def _numpy(value: Any, on_file: FileHook) -> Any:
    """numpy scalars and arrays, imported only once a numpy value shows up."""
    np = importlib.import_module("numpy")

    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return _finite(float(value))
    if isinstance(value, np.ndarray):
        return _convert(value.tolist(), on_file)
    raise OutputEncodingError(
        f"Object of type numpy.{type(value).__name__} is not JSON serializable"
    )
