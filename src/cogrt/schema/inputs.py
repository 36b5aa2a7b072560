"""Request decoding and input validation, compiled once per predictor (spec §8.1-§8.2).

``InputModel`` reads the ``Input`` component of an OpenAPI document, whether
``cog build`` wrote it or cogrt generated it, so an image validates exactly as
its bundled schema says. The component becomes a msgspec Struct and the
request envelope a second Struct around it: a valid request is decoded and
validated in one pass. Only a rejected request pays for the slow path, which
re-reads the body as plain JSON and walks every field to collect *all* errors
with Cog's messages (:mod:`cogrt.schema.jsonrules`). Unknown input keys also
take the slow path (the Struct forbids them) so they can be logged when
stripped.

File inputs (``format: uri``) accept only ``http(s)://`` URLs and ``data:``
URIs; the check is a regex msgspec runs in C, so models without file inputs
pay nothing and those with them almost nothing. Only the trusted one-shot CLI
asks for local paths (``decode_request(..., local_paths=True)``), which
decodes with a twin model compiled without that check on first use.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import Any

import msgspec

from cogrt.errors import InputValidationError, RequestError
from cogrt.schema.arguments import build_arguments, download_targets, recorded_input
from cogrt.schema.jsonrules import Rule, render, rule_errors, rule_from_schema
from cogrt.schema.msgtypes import field_error, field_error_from_msgspec, msgspec_type
from cogrt.schema.request import (
    ALL_EVENTS,
    PredictionRequest,
    envelope_errors,
    envelope_type,
    malformed,
)

__all__ = [
    "ALL_EVENTS",
    "InputModel",
    "PredictionRequest",
    "build_arguments",
    "download_targets",
    "recorded_input",
]

_log = logging.getLogger(__name__)


class _Property(msgspec.Struct, frozen=True):
    name: str
    attr: str  # the Struct attribute; JSON names need not be identifiers
    rule: Rule
    required: bool
    inject_null: bool  # nullable, not required, no default: recorded as null (§8.2 step 3)
    manual: bool  # msgspec cannot express the rule; checked after decoding


class InputModel:
    """The compiled validator of one ``Input`` (or ``TrainingInput``) component."""

    def __init__(
        self,
        schema: Mapping[str, Any],
        components: Mapping[str, Any],
        *,
        passthrough: bool = False,
        local_paths: bool = False,
    ) -> None:
        """Compile ``schema`` (an object schema); ``$ref`` targets come from ``components``.

        ``passthrough`` keeps undeclared keys (predictors taking ``**kwargs``).
        ``local_paths`` lets file inputs be local paths: for the trusted CLI
        only, never for a request that came over the network.
        """
        self._source = (schema, components)
        required = set(schema.get("required") or ())
        props: list[_Property] = []
        fields: list[tuple[Any, ...]] = []
        for index, (name, prop) in enumerate((schema.get("properties") or {}).items()):
            rule = rule_from_schema(prop, components, local_paths=local_paths)
            typ = msgspec_type(rule)
            attr = f"f{index}"
            is_required = name in required
            inject = prop.get("nullable") is True and not is_required and "default" not in prop
            props.append(_Property(name, attr, rule, is_required, inject, typ is None))
            typ = Any if typ is None else typ
            fields.append(
                (attr, typ) if is_required else (attr, typ | msgspec.UnsetType, msgspec.UNSET)
            )
        self.passthrough = passthrough
        self.properties: tuple[str, ...] = tuple(p.name for p in props)
        self._props = tuple(props)
        self._names = frozenset(self.properties)
        self._manual = tuple(p for p in props if p.manual)
        self._checks_file_urls = any(p.rule.has_file_url for p in props)
        self._struct: type[msgspec.Struct] = msgspec.defstruct(
            "Input",
            fields,
            rename={p.attr: p.name for p in props},
            kw_only=True,
            forbid_unknown_fields=not passthrough,
        )
        input_type: Any = dict[str, Any] if passthrough else self._struct
        self._decoder = msgspec.json.Decoder(envelope_type(input_type))

    @classmethod
    def from_document(
        cls, document: Mapping[str, Any], component: str = "Input", *, passthrough: bool = False
    ) -> InputModel:
        """The model of ``components.schemas[component]`` in an OpenAPI document."""
        components = (document.get("components") or {}).get("schemas") or {}
        schema = components.get(component)
        if not isinstance(schema, Mapping):
            raise ValueError(f"the OpenAPI document has no components.schemas.{component}")
        return cls(schema, components, passthrough=passthrough)

    def decode_request(self, body: bytes, *, local_paths: bool = False) -> PredictionRequest:
        """Parse a request body (spec §8.1) and validate its input (§8.2).

        Raises ``MalformedRequestError`` for a body that is not JSON (or
        nests too deeply to decode), ``InputValidationError`` when only the
        input is wrong, and ``RequestError`` when the envelope is (its detail
        lists input errors too). ``local_paths=True`` accepts local paths for
        file inputs; only the trusted one-shot CLI passes it.
        """
        if local_paths and self._checks_file_urls:
            return self._trusting.decode_request(body)
        if not body or body.isspace():
            body = b"{}"
        try:
            envelope: Any = self._decoder.decode(body)
        except msgspec.ValidationError:
            return self._decode_slowly(body)
        except (msgspec.DecodeError, RecursionError) as exc:
            raise malformed(exc) from exc
        if envelope.input is None or self.passthrough:
            validated, errors = self._check_input(envelope.input)
        else:
            validated, errors = self._accept(envelope.input)
        if errors:
            raise InputValidationError(errors)
        events = envelope.webhook_events_filter
        return PredictionRequest(
            id=envelope.id,
            input=validated,
            context=envelope.context or {},
            webhook=envelope.webhook,
            webhook_events_filter=ALL_EVENTS if events is None else frozenset(events),
            created_at=envelope.created_at,
        )

    @functools.cached_property
    def _trusting(self) -> InputModel:
        """This model without the file-URL check, compiled on first use (by the CLI)."""
        schema, components = self._source
        return InputModel(schema, components, passthrough=self.passthrough, local_paths=True)

    def validate_input(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Validate an input object given in-process (``Runtime.predict(input=...)``).

        Same semantics and errors as :meth:`decode_request`.
        """
        if not self.passthrough:
            try:
                struct = msgspec.convert(raw, self._struct)
            except msgspec.ValidationError:
                pass
            else:
                validated, errors = self._accept(struct)
                if not errors:
                    return validated
        validated, errors = self._check_input(dict(raw))
        if errors:
            raise InputValidationError(errors)
        return validated

    def _accept(self, struct: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The recorded input of a decoded Struct, after the checks msgspec could not do."""
        errors = [
            field_error(p.name + suffix, message)
            for p in self._manual
            if (value := getattr(struct, p.attr)) is not msgspec.UNSET
            for suffix, message in rule_errors(p.rule, value)
        ]
        return self._record(struct), errors

    def _record(self, struct: Any) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for p in self._props:
            value = getattr(struct, p.attr)
            if value is not msgspec.UNSET:
                result[p.name] = value
            elif p.inject_null:
                result[p.name] = None
        return result

    def _check_input(self, raw: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Validate plain JSON, collecting every error (the slow path)."""
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            return {}, [field_error("__root__", f'{render(raw)} is not of type "object"')]
        errors: list[dict[str, Any]] = []
        for p in self._props:
            if p.name not in raw:
                if p.required:
                    errors.append(
                        {
                            "loc": ["body", "input", p.name],
                            "msg": "Field required",
                            "type": "value_error.missing",
                        }
                    )
                continue
            for suffix, message in rule_errors(p.rule, raw[p.name]):
                errors.append(field_error(p.name + suffix, message))
        if errors:
            return {}, errors
        unknown = [key for key in raw if key not in self._names]
        known = {k: v for k, v in raw.items() if k in self._names} if unknown else raw
        if unknown and not self.passthrough:
            _log.warning("Stripped unknown input fields: %s", ", ".join(unknown))
        try:
            struct = msgspec.convert(known, self._struct)
        except msgspec.ValidationError as exc:  # msgspec is stricter than the rules here
            return {}, [field_error_from_msgspec(exc, self.properties)]
        validated = self._record(struct)
        if self.passthrough:
            validated.update((key, raw[key]) for key in unknown)
        return validated, []

    def _decode_slowly(self, body: bytes) -> PredictionRequest:
        try:
            data = msgspec.json.decode(body)
        except (msgspec.DecodeError, RecursionError) as exc:
            raise malformed(exc) from exc
        if not isinstance(data, dict):
            raise RequestError(
                [
                    {
                        "loc": ["body"],
                        "msg": f'{render(data)} is not of type "object"',
                        "type": "value_error",
                    }
                ]
            )
        errors = envelope_errors(data)
        validated, input_errors = self._check_input(data.get("input"))
        if errors:
            raise RequestError(errors + input_errors)
        if input_errors:
            raise InputValidationError(input_errors)
        events = data.get("webhook_events_filter")
        return PredictionRequest(
            id=data.get("id"),
            input=validated,
            context=data.get("context") or {},
            webhook=data.get("webhook"),
            webhook_events_filter=ALL_EVENTS if events is None else frozenset(events),
            created_at=data.get("created_at"),
        )
