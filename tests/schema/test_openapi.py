"""The generated OpenAPI document, pinned by one golden file per test predictor.

Every ``tests/predictors/<name>.py`` is one behaviour and
``tests/schema/golden/<name>.json`` is the exact document (bytes of ``dumps``)
that spec §7 and §21.3 require for it. Which attribute is the entry point is
read from the file without importing it:

* ``REF = "Name"`` names the prediction entry point; without it the first of
  ``Runner``, ``Predictor``, ``run``, ``predict`` defined at top level is used;
* ``TRAIN_REF = "Name"`` names a training entry point (a function or a class
  with ``train``). A file with only ``TRAIN_REF`` gives a train-mode document,
  a file with both the combined document.
"""

from __future__ import annotations

import ast
import json
import logging
import pathlib
from typing import Any

import pytest

from cogrt.runner.loader import resolve
from cogrt.schema.openapi import (
    DerivedFacts,
    build_document,
    derived_facts,
    dumps,
    load_document,
    read_document,
)
from cogrt.schema.signature import Signature, inspect_entry
from tests.support.predictors import SCHEMA

PREDICTORS = SCHEMA.path
GOLDEN = pathlib.Path(__file__).parent / "golden"
NAMES = sorted(path.stem for path in PREDICTORS.glob("*.py"))
COG_VERSION = "0.22.0"
_DEFAULT_REFS = ("Runner", "Predictor", "run", "predict")


def entry_refs(source: pathlib.Path) -> tuple[str | None, str | None]:
    """The prediction and training attribute names a predictor file declares."""
    tree = ast.parse(source.read_text())
    defined: list[str] = []
    constants: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.append(node.name)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = node.value.value
    predict = constants.get("REF") or next((n for n in _DEFAULT_REFS if n in defined), None)
    return predict, constants.get("TRAIN_REF")


def document_for(source: pathlib.Path, *, legacy_none_defaults: bool = False) -> dict[str, Any]:
    predict, train = entry_refs(source)

    def signature(attribute: str | None, mode: Any) -> Signature | None:
        if attribute is None:
            return None
        entry = resolve(f"{source}:{attribute}", mode).entry
        return inspect_entry(entry, legacy_none_defaults=legacy_none_defaults)

    sig, train_sig = signature(predict, "predict"), signature(train, "train")
    if sig is None:
        return build_document(
            None, train_signature=train_sig, mode="train", cog_version=COG_VERSION
        )
    return build_document(sig, train_signature=train_sig, cog_version=COG_VERSION)


def test_there_are_enough_predictors_and_each_has_a_golden() -> None:
    assert len(NAMES) >= 30
    assert sorted(p.stem for p in GOLDEN.glob("*.json")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_document_matches_golden(name: str) -> None:
    document = document_for(PREDICTORS / f"{name}.py")
    golden = (GOLDEN / f"{name}.json").read_bytes()
    assert document == json.loads(golden)
    assert dumps(document) + b"\n" == golden


@pytest.mark.parametrize("name", NAMES)
def test_cogrt_sdk_imports_give_the_same_document(name: str, tmp_path: pathlib.Path) -> None:
    source = (PREDICTORS / f"{name}.py").read_text()
    rewritten = source.replace("from cog import", "from cogrt.sdk import").replace(
        "import cog\n", "import cogrt.sdk as cog\n"
    )
    assert "from cog " not in rewritten and "import cog\n" not in rewritten
    copy = tmp_path / f"{name}.py"
    copy.write_text(rewritten)
    assert dumps(document_for(copy)) == dumps(document_for(PREDICTORS / f"{name}.py"))


def test_legacy_decorators_document_equals_its_modern_twin() -> None:
    legacy = document_for(PREDICTORS / "legacy_decorators.py")
    modern = document_for(PREDICTORS / "legacy_modern_twin.py")
    assert dumps(legacy) == dumps(modern)


def test_legacy_none_defaults_switch_makes_none_defaults_optional() -> None:
    document = document_for(PREDICTORS / "default_none_required.py", legacy_none_defaults=True)
    schema = document["components"]["schemas"]["Input"]
    assert "required" not in schema
    assert schema["properties"]["seed"] == {
        "description": "Random seed",
        "nullable": True,
        "title": "Seed",
        "type": "integer",
        "x-order": 0,
    }


def _signature(*, streaming: bool = False, output: dict[str, Any] | None = None) -> Signature:
    return Signature(
        inputs=(),
        output=output or {"title": "Output", "type": "string"},
        kind="sync",
        streaming=streaming,
    )


def test_training_half_never_streams() -> None:
    document = build_document(
        None, train_signature=_signature(streaming=True), mode="train", cog_version="1"
    )
    assert "x-cog-streaming" not in document["paths"]["/trainings"]["post"]
    assert "/predictions" not in document["paths"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "predict"}, "predict signature"),
        ({"mode": "train", "signature": _signature()}, "train signature"),
        ({"mode": "serve", "signature": _signature()}, "mode must be"),
    ],
)
def test_build_document_refuses_a_mode_without_its_signature(
    kwargs: dict[str, Any], message: str
) -> None:
    kwargs.setdefault("signature", None)
    with pytest.raises(ValueError, match=message):
        build_document(cog_version="1", **kwargs)


def test_document_does_not_share_state_with_the_signature() -> None:
    sig = _signature(output={"title": "Output", "type": "array", "items": {"type": "string"}})
    document = build_document(sig, cog_version="1")
    document["components"]["schemas"]["Output"]["items"]["type"] = "integer"
    document["paths"]["/"]["get"]["responses"]["200"]["description"] = "changed"
    assert sig.output["items"] == {"type": "string"}
    again = build_document(sig, cog_version="1")
    assert again["paths"]["/"]["get"]["responses"]["200"]["description"] == "Successful Response"


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (1.0, b"1"),
        (100.0, b"100"),
        (-0.0, b"-0"),
        (0.75, b"0.75"),
        (1e-5, b"0.00001"),
        (1e-6, b"0.000001"),
        (1.5e-7, b"1.5e-7"),
        (1e20, b"100000000000000000000"),
        (1e21, b"1e+21"),
        (123456789.125, b"123456789.125"),
        (0.1 + 0.2, b"0.30000000000000004"),
        (7, b"7"),
        (True, b"true"),
    ],
)
def test_dumps_writes_numbers_like_go(value: Any, encoded: bytes) -> None:
    assert dumps({"x": value}) == b'{"x":' + encoded + b"}"


def test_dumps_escapes_like_go_and_keeps_utf8() -> None:
    assert dumps({"x": "<a & b> é\u2028"}) == b'{"x":"\\u003ca \\u0026 b\\u003e \xc3\xa9\\u2028"}'


def test_dumps_sorts_every_object_except_paths_components_and_properties() -> None:
    schema = {
        "type": "object",
        "title": "Input",
        "properties": {
            "zeta": {"x-order": 0, "type": "object", "default": {"b": 1, "a": 2}},
            "alpha": {"x-order": 1, "items": {"type": "string", "title": "I"}, "type": "array"},
            "properties": {"type": "object", "title": "Properties"},
        },
    }
    document = {
        "paths": {"/z": {"post": {"b": 1, "a": 2}}, "/a": {}},
        "openapi": "3.0.2",
        "components": {"schemas": {"Z": schema, "A": {"type": "string", "title": "A"}}},
    }
    assert dumps(document) == (
        b'{"components":{"schemas":{"Z":{"properties":{'
        b'"zeta":{"default":{"a":2,"b":1},"type":"object","x-order":0},'
        b'"alpha":{"items":{"title":"I","type":"string"},"type":"array","x-order":1},'
        b'"properties":{"title":"Properties","type":"object"}},'
        b'"title":"Input","type":"object"},"A":{"title":"A","type":"string"}}},'
        b'"openapi":"3.0.2","paths":{"/z":{"post":{"a":2,"b":1}},"/a":{}}}'
    )


def test_derived_facts_of_generated_documents() -> None:
    streaming = document_for(PREDICTORS / "streaming_decorated.py")
    assert derived_facts(streaming) == DerivedFacts(True, False, True)
    plain = document_for(PREDICTORS / "str_input.py")
    assert derived_facts(plain) == DerivedFacts(False, False, False)
    combined = document_for(PREDICTORS / "train_and_predict.py")
    assert derived_facts(combined) == DerivedFacts(True, True, True)
    assert derived_facts(combined, mode="train") == DerivedFacts(True, True, False)
    train_only = document_for(PREDICTORS / "train_function.py")
    assert derived_facts(train_only, mode="train") == DerivedFacts(False, True, False)


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"paths": [], "components": []},
        {"paths": {"/predictions": {"post": {"x-cog-streaming": "yes"}}}},
        {"components": {"schemas": {"Output": "array", "TrainingInput": None}}},
    ],
)
def test_derived_facts_of_odd_documents_are_all_false(document: dict[str, Any]) -> None:
    assert derived_facts(document) == DerivedFacts(False, False, False)
    assert derived_facts(document, mode="train") == DerivedFacts(False, False, False)


def test_read_document_returns_the_exact_bytes(tmp_path: pathlib.Path) -> None:
    raw = b'{\n  "openapi": "3.0.2",\n  "components": {"schemas": {"Output": {"type": "array"}}}\n}'
    path = tmp_path / "openapi_schema.json"
    path.write_bytes(raw)
    assert read_document(path) == (raw, json.loads(raw))
    assert load_document(path) == json.loads(raw)


def test_missing_document_is_none_without_a_warning(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert load_document(tmp_path / "absent.json") is None
    assert caplog.records == []


@pytest.mark.parametrize(
    ("content", "reason"), [(b"{not json", "not valid JSON"), (b"[1, 2]", "not a JSON object")]
)
def test_unusable_document_is_none_with_a_warning(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture, content: bytes, reason: str
) -> None:
    path = tmp_path / "openapi_schema.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING):
        assert load_document(path) is None
    assert reason in caplog.text and str(path) in caplog.text


def test_streaming_on_a_non_iterator_is_dropped_with_a_warning() -> None:
    entry = resolve(f"{PREDICTORS / 'streaming_not_iterator.py'}:Predictor").entry
    sig = inspect_entry(entry)
    assert sig.streaming is False
    assert any("@streaming is ignored" in warning for warning in sig.warnings)
