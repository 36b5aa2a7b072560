"""Writing and reading OpenAPI documents (spec §7.1, §7.5, §7.6).

``dumps`` writes a document the way Cog's Go generator does, so a generated
document is byte-for-byte what ``cog build`` would have written: objects keep
insertion order only where the order means something (paths, components, a
schema's properties), every other object is sorted, and floats are formatted
like Go's ``encoding/json``. ``read_document`` picks up the file ``cog build``
bundles, which is served unchanged and trusted over anything cogrt derives.
"""

from __future__ import annotations

import logging
import math
import os
import pathlib
from decimal import Decimal
from typing import Any, NamedTuple

import msgspec

from cogrt.schema.modes import Mode

__all__ = [
    "SCHEMA_FILE",
    "DerivedFacts",
    "derived_facts",
    "dumps",
    "load_document",
    "read_document",
]

SCHEMA_FILE = ".cog/openapi_schema.json"
"""Where ``cog build`` leaves the document, relative to the project root."""

_log = logging.getLogger(__name__)


def dumps(document: dict[str, Any]) -> bytes:
    """Compact JSON laid out like Cog's generator writes it (spec §7.5).

    Only ``paths``, ``components.schemas`` and each schema's ``properties``
    keep their insertion order; all other objects get sorted keys. Floats
    use Go's format (``1`` for ``1.0``, ``0.00001``, ``1e-7``, ``1e+21``) and
    ``<``, ``>``, ``&`` are escaped as Go does, so the bytes match ``cog build``.
    """
    normal = {key: _top_level(key, value) for key, value in sorted(document.items())}
    encoded = msgspec.json.encode(normal)
    for raw, escaped in _GO_ESCAPES:
        encoded = encoded.replace(raw, escaped)
    return encoded


_GO_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def _top_level(key: str, value: Any) -> Any:
    if key == "paths" and isinstance(value, dict):
        return {path: _plain(item) for path, item in value.items()}
    if key == "components" and isinstance(value, dict):
        return {
            name: (
                {n: _schema(s) for n, s in part.items()}
                if name == "schemas" and isinstance(part, dict)
                else _plain(part)
            )
            for name, part in sorted(value.items())
        }
    return _plain(value)


_SUBSCHEMA = frozenset({"items", "additionalProperties", "not"})
_SUBSCHEMAS = frozenset({"anyOf", "allOf", "oneOf"})


def _schema(value: Any) -> Any:
    """A JSON schema: sorted keys, except the properties map it declares."""
    if not isinstance(value, dict):
        return _plain(value)
    normal: dict[str, Any] = {}
    for key, item in sorted(value.items()):
        if key == "properties" and isinstance(item, dict):
            normal[key] = {name: _schema(s) for name, s in item.items()}
        elif key in _SUBSCHEMA:
            normal[key] = _schema(item)
        elif key in _SUBSCHEMAS and isinstance(item, list):
            normal[key] = [_schema(s) for s in item]
        else:
            normal[key] = _plain(item)
    return normal


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return _go_float(value)
    return value


def _go_float(value: float) -> Any:
    """``value`` as Go's ``encoding/json`` writes a float64 (shortest round-trip digits)."""
    if not math.isfinite(value):
        return None  # JSON has no spelling for it; Cog could not have built it either
    digits = Decimal(repr(value)).normalize()
    exponent = value != 0 and not 1e-6 <= abs(value) < 1e21
    return msgspec.Raw(format(digits, "e" if exponent else "f").encode())


def read_document(
    path: str | os.PathLike[str] = SCHEMA_FILE,
) -> tuple[bytes, dict[str, Any]] | None:
    """The bundled document's exact bytes and parsed form, or None to generate one.

    A missing file is the normal case for a project that was never built; a
    file that is unreadable or not a JSON object is logged and ignored, and the
    caller generates the document instead (spec §7.1).
    """
    try:
        raw = pathlib.Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        _log.warning("cannot read %s (%s); generating the OpenAPI schema instead", path, exc)
        return None
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        _log.warning("%s is not valid JSON (%s); generating the OpenAPI schema instead", path, exc)
        return None
    if not isinstance(document, dict):
        _log.warning("%s is not a JSON object; generating the OpenAPI schema instead", path)
        return None
    return raw, document


def load_document(path: str | os.PathLike[str] = SCHEMA_FILE) -> dict[str, Any] | None:
    """The parsed bundled document, or None (see ``read_document``)."""
    found = read_document(path)
    return None if found is None else found[1]


class DerivedFacts(NamedTuple):
    """What the runtime reads back out of a document (spec §7.6)."""

    streaming: bool
    training: bool
    output_is_array: bool


def derived_facts(document: dict[str, Any], *, mode: Mode = "predict") -> DerivedFacts:
    """Streaming, training support and output shape; never fails on odd documents.

    A bundled file may be anything, so each step checks its type. In train
    mode the output shape comes from ``TrainingOutput`` (``Output`` if absent).
    """
    post = _get_path(document, "paths", "/predictions", "post")
    schemas = _get_path(document, "components", "schemas")
    schemas = schemas if isinstance(schemas, dict) else {}
    names = ("TrainingOutput", "Output") if mode == "train" else ("Output",)
    output: dict[str, Any] = next(
        (schemas[n] for n in names if isinstance(schemas.get(n), dict)), {}
    )
    return DerivedFacts(
        streaming=isinstance(post, dict) and post.get("x-cog-streaming") is True,
        training=isinstance(schemas.get("TrainingInput"), dict),
        output_is_array=output.get("type") == "array",
    )


def _get_path(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value
