"""The OpenAPI document served at ``GET /openapi.json`` (spec §7.2-§7.4, §21.3).

Cog bakes this document into an image at build time from a static reading of
the predictor; cogrt builds the same document from the loaded predictor when
no bundled file exists. Every per-input decision (required, nullable,
default) was already taken by ``signature``; this module only lays the
document out, so the layout can be compared line by line with the spec.
Writing and reading documents lives in ``document_io`` and is re-exported.
"""

from __future__ import annotations

import copy
from typing import Any

import msgspec

from cogrt.schema.annotations import Scalar, UnionOf, input_fragment, title_case
from cogrt.schema.document_io import (
    SCHEMA_FILE,
    DerivedFacts,
    derived_facts,
    dumps,
    load_document,
    read_document,
)
from cogrt.schema.fields import InputField
from cogrt.schema.modes import Mode
from cogrt.schema.signature import Signature

__all__ = [
    "SCHEMA_FILE",
    "DerivedFacts",
    "build_document",
    "derived_facts",
    "dumps",
    "load_document",
    "read_document",
]

_REF = "#/components/schemas/"


class _Half(msgspec.Struct, frozen=True):
    """The words that differ between the prediction and the training half."""

    noun: str  # "prediction" / "training"
    verb: str  # "predict" / "train"
    prefix: str  # of the Input/Output component names: "" / "Training"


_PREDICT = _Half("prediction", "predict", "")
_TRAIN = _Half("training", "train", "Training")


def build_document(
    signature: Signature | None,
    *,
    train_signature: Signature | None = None,
    mode: Mode = "predict",
    cog_version: str,
) -> dict[str, Any]:
    """The document for a predictor, a trainer, or both (spec §7.2-§7.4, §21.3).

    ``signature`` is the prediction entry point, ``train_signature`` the
    training one. With both, the training paths and components are added to
    the prediction document where their names are still free, in either mode,
    because that is what Cog serves. ``mode`` states which entry point the
    process was started for; that one must be given.
    """
    if mode not in ("predict", "train"):
        raise ValueError(f"mode must be 'predict' or 'train', not {mode!r}")
    if (signature if mode == "predict" else train_signature) is None:
        raise ValueError(f"a {mode}-mode document needs the {mode} signature")
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for sig, half in ((signature, _PREDICT), (train_signature, _TRAIN)):
        if sig is not None:
            half_paths = _expand(_PATHS, half)
            if sig.streaming and half is _PREDICT:  # trainings never stream (§21.3)
                half_paths["/predictions"]["post"]["x-cog-streaming"] = True
            for key, value in half_paths.items():
                paths.setdefault(key, value)
            for key, value in _components(sig, half).items():
                schemas.setdefault(key, value)
    return {
        "openapi": "3.0.2",
        "info": {"title": "Cog", "version": cog_version},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _expand(template: str, h: _Half) -> dict[str, Any]:
    """Decode one of the spec templates below with this half's words filled in."""
    words = {"@noun": h.noun, "@Noun": h.noun.title(), "@verb": h.verb, "@Verb": h.verb.title()}
    for token, word in {**words, "@prefix": h.prefix, "@OK": _OK, "@422": _422}.items():
        template = template.replace(token, word)
    decoded: dict[str, Any] = msgspec.json.decode(template)
    return decoded


def _components(sig: Signature, h: _Half) -> dict[str, Any]:
    """One half's components, in the insertion order of spec §7.2."""
    name_in = h.prefix + "Input"
    required = [f.name for f in sig.inputs if f.required]
    input_schema: dict[str, Any] = {
        "title": name_in,
        "type": "object",
        "properties": {f.name: _input_property(f) for f in sig.inputs},
        **({"required": required} if required else {}),
    }
    schemas = {name_in: input_schema, h.prefix + "Output": copy.deepcopy(sig.output)}
    schemas.update({f.name: _enum_component(f) for f in sig.inputs if f.choices is not None})
    return {**schemas, **_expand(_COMPONENTS, h)}


# Spec §7.2 (paths table, components 4-8) with the words §21.3 changes for
# training written as @tokens. PredictionResponse lists its properties
# alphabetically: Cog declares them in a Go map, which its encoder sorts.
_OK = '{"description":"Successful Response","content":{"application/json":{"schema":{}}}}'
_422 = """{"description":"Validation Error","content":{"application/json":
    {"schema":{"$ref":"#/components/schemas/HTTPValidationError"}}}}"""
_PATHS = """{
"/":{"get":{"summary":"Root","operationId":"root__get","responses":{"200":@OK}}},
"/health-check":{"get":{"summary":"Healthcheck","operationId":"healthcheck_health_check_get",
  "responses":{"200":@OK}}},
"/@nouns":{"post":{"summary":"@Verb","description":"Run a single @noun on the model",
  "operationId":"@verb_@nouns_post",
  "requestBody":{"content":{"application/json":
    {"schema":{"$ref":"#/components/schemas/@NounRequest"}}}},
  "responses":{"200":{"description":"Successful Response","content":{"application/json":
      {"schema":{"$ref":"#/components/schemas/@NounResponse"}}}},
    "422":@422}}},
"/@nouns/{@noun_id}/cancel":{"post":{"summary":"Cancel",
  "operationId":"cancel_@nouns__@noun_id__cancel_post",
  "parameters":[{"required":true,"schema":{"title":"@Noun Id","type":"string"},
    "name":"@noun_id","in":"path"}],
  "responses":{"200":@OK,"422":@422}}}
}"""
_COMPONENTS = """{
"@NounRequest":{"title":"@NounRequest","type":"object","properties":{
  "id":{"title":"Id","type":"string"},"input":{"$ref":"#/components/schemas/@prefixInput"}}},
"@NounResponse":{"title":"@NounResponse","type":"object","properties":{
  "completed_at":{"title":"Completed At","type":"string","format":"date-time"},
  "created_at":{"title":"Created At","type":"string","format":"date-time"},
  "error":{"title":"Error","type":"string"},
  "id":{"title":"Id","type":"string"},
  "input":{"$ref":"#/components/schemas/@prefixInput"},
  "logs":{"title":"Logs","type":"string"},
  "metrics":{"title":"Metrics","type":"object"},
  "output":{"$ref":"#/components/schemas/@prefixOutput"},
  "started_at":{"title":"Started At","type":"string","format":"date-time"},
  "status":{"title":"Status","type":"string"},
  "version":{"title":"Version","type":"string"}}},
"Status":{"title":"Status","description":"An enumeration.",
  "enum":["starting","processing","succeeded","canceled","failed"],"type":"string"},
"HTTPValidationError":{"title":"HTTPValidationError","type":"object",
  "properties":{"detail":{"title":"Detail","type":"array",
    "items":{"$ref":"#/components/schemas/ValidationError"}}}},
"ValidationError":{"title":"ValidationError","required":["loc","msg","type"],"type":"object",
  "properties":{"loc":{"title":"Location","type":"array",
    "items":{"anyOf":[{"type":"string"},{"type":"integer"}]}},
    "msg":{"title":"Message","type":"string"},"type":{"title":"Error Type","type":"string"}}}
}"""


_CONSTRAINT_KEYS = (
    ("description", "description"),
    ("ge", "minimum"),
    ("le", "maximum"),
    ("min_length", "minLength"),
    ("max_length", "maxLength"),
    ("regex", "pattern"),
    ("accept", "x-cog-accept"),
)


def _input_property(f: InputField) -> dict[str, Any]:
    """One ``Input`` property; required/nullable/default were decided by the signature."""
    prop: dict[str, Any]
    if f.choices is not None:
        prop = {"allOf": [{"$ref": _REF + f.name}]}
    else:
        prop = {**input_fragment(f.node), "title": title_case(f.name)}
        if f.nullable and isinstance(f.node, UnionOf):
            prop["anyOf"] = [{**variant, "nullable": True} for variant in prop["anyOf"]]
    prop["x-order"] = f.index
    if f.has_default:
        prop["default"] = copy.deepcopy(f.default)
    if f.nullable:
        prop["nullable"] = True
    for attribute, key in _CONSTRAINT_KEYS:
        value = getattr(f, attribute)
        if value is not None:
            prop[key] = value
    if f.deprecated:
        prop["deprecated"] = True
    return prop


_ENUM_TYPES = {"str": "string", "int": "integer", "float": "number"}


def _enum_component(f: InputField) -> dict[str, Any]:
    kind = f.node.kind if isinstance(f.node, Scalar) else "str"
    return {
        "title": f.name,
        "description": "An enumeration.",
        "enum": list(f.choices or ()),
        "type": _ENUM_TYPES.get(kind, "string"),
    }
