"""Where a prediction's output holds files, read from the ``Output`` schema.

In-process clients (the ``predict`` command, :mod:`cogrt.testing`) get file
outputs as local paths (plain strings in the prediction's JSON) and need to
tell them from strings the model returned: the schema says which values are
files (``"format": "uri"``), through arrays, nullables, objects and ``$ref``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

__all__ = ["FileMapper", "component", "components"]


def components(openapi: bytes | None) -> dict[str, Any]:
    """The schemas of an OpenAPI document (``Runtime.openapi_json``)."""
    document = msgspec.json.decode(openapi or b"{}")
    found: dict[str, Any] = document.get("components", {}).get("schemas", {})
    return found


def component(schemas: dict[str, Any], name: str, training: bool) -> dict[str, Any]:
    """``Input``/``Output``, or for a training ``TrainingInput``/``TrainingOutput``
    (falling back to the plain name, as a train-only server's document has it)."""
    found: dict[str, Any] = schemas.get(f"Training{name}" if training else name) or schemas.get(
        name, {}
    )
    return found


class FileMapper:
    """Applies a function to each file (a URI-formatted string) in values of one schema."""

    def __init__(self, schema: dict[str, Any], components: dict[str, Any]) -> None:
        self._schema = schema
        self._components = components

    @classmethod
    def for_document(cls, openapi: bytes | None, *, training: bool = False) -> FileMapper:
        schemas = components(openapi)
        return cls(component(schemas, "Output", training), schemas)

    @property
    def schema(self) -> dict[str, Any]:
        return self._resolve(self._schema)

    @property
    def streams(self) -> bool:
        """An iterator output: chunks arrive one by one (``x-cog-array-type``)."""
        return self._schema.get("x-cog-array-type") == "iterator"

    @property
    def concatenates(self) -> bool:
        """A ``ConcatenateIterator``: chunks are pieces of one text."""
        return self._schema.get("x-cog-array-display") == "concatenate"

    def chunk(self, value: Any, fn: Callable[[str], Any]) -> Any:
        """One streamed chunk (an item of the array output)."""
        return self._map(value, self._schema.get("items", {}), fn, 0)

    def whole(self, value: Any, fn: Callable[[str], Any]) -> Any:
        """The complete ``output`` field."""
        return self._map(value, self._schema, fn, 0)

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found: dict[str, Any] = self._components.get(ref.rsplit("/", 1)[1], {})
            return found
        for combined in ("allOf", "anyOf"):
            members = schema.get(combined)
            if isinstance(members, list) and len(members) == 1:
                return self._resolve(members[0])
        return schema

    def _map(self, value: Any, schema: dict[str, Any], fn: Callable[[str], Any], depth: int) -> Any:
        if value is None or depth > 32:  # a cycle cut to ``object`` ends far sooner
            return value
        schema = self._resolve(schema)
        if isinstance(value, str):
            return fn(value) if schema.get("format") == "uri" else value
        if isinstance(value, list):
            items = schema.get("items", {})
            return [self._map(item, items, fn, depth + 1) for item in value]
        if isinstance(value, dict):
            properties = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            return {
                key: self._map(
                    item,
                    properties.get(key, extra if isinstance(extra, dict) else {}),
                    fn,
                    depth + 1,
                )
                for key, item in value.items()
            }
        return value
