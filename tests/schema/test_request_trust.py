"""What a request from the network may not do (issue 10): name a server file as a file
input, send webhooks to a non-http(s) URL, or crash the decoder with deep nesting.

File inputs (``format: uri`` in the document) take ``http(s)://`` URLs and
``data:`` URIs only, unless the trusted CLI asks for local paths.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from cogrt.errors import InputValidationError, MalformedRequestError, RequestError
from cogrt.schema.inputs import InputModel, PredictionRequest
from cogrt.schema.openapi import build_document
from cogrt.schema.signature import inspect_entry
from cogrt.sdk.types import File, Path
from tests.support.input_models import decode, model_for
from tests.support.input_models import errors as refusal


def files(
    f: Path,
    doc: File | None = None,
    images: list[Path] | None = None,
    maybe: Path | None = None,
) -> str:
    return ""


@pytest.fixture(scope="module")
def model() -> InputModel:
    return model_for(files)


REFUSED = [
    "/etc/passwd",
    "predict.py",
    "../x",
    "",
    " https://example.com/x",
    "file:///etc/passwd",
    "FILE:///etc/passwd",
    "File:/etc/passwd",
    "gopher://example.com/x",
    "ftp://example.com/x",
    "http://",
    "http:///etc/passwd",
    "//example.com/x",
]
ACCEPTED = [
    "http://example.com/a.png",
    "https://example.com/a.png?sig=1",
    "HTTPS://example.com/a.png",
    "Http://127.0.0.1:8080/x",
    "data:,hello",
    "data:image/png;base64,aGk=",
    "DATA:text/plain,hi",
]


@pytest.mark.parametrize("value", REFUSED)
@pytest.mark.parametrize("field", ["f", "doc", "maybe"])
def test_a_file_input_that_is_not_a_url_is_refused_naming_the_field(
    model: InputModel, field: str, value: str
) -> None:
    body = {"input": {"f": "https://example.com/ok.png", field: value}}
    assert refusal(model, body) == [
        {
            "loc": ["body", "input", field],
            "msg": f"{json.dumps(value)} is not a file URL: send an http:// or https:// URL "
            "or a data: URI, not a path or another scheme",
            "type": "value_error",
        }
    ]


def test_list_items_are_checked_one_by_one(model: InputModel) -> None:
    body = {"input": {"f": "data:,x", "images": ["https://x/a.png", "/etc/passwd", "data:,y", ""]}}
    assert [entry["loc"] for entry in refusal(model, body)] == [
        ["body", "input", "images/1"],
        ["body", "input", "images/3"],
    ]


@pytest.mark.parametrize("value", ACCEPTED)
def test_http_urls_and_data_uris_are_accepted_in_any_case(model: InputModel, value: str) -> None:
    request = decode(model, {"input": {"f": value, "doc": value, "images": [value]}})
    assert request.input["f"] == request.input["doc"] == value
    assert request.input["images"] == [value]


def test_valid_urls_stay_on_the_fast_path(
    model: InputModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """msgspec checks the URLs in C; only a refused request re-reads the body."""

    def slow(body: bytes) -> PredictionRequest:
        raise AssertionError("took the slow path")

    monkeypatch.setattr(model, "_decode_slowly", slow)
    body = {"input": {"f": "https://x/a", "doc": "data:,x", "images": ["HTTP://x/b"]}}
    assert decode(model, {**body, "webhook": "https://x/hook"}).input == body["input"]


def test_every_refusal_is_collected_with_the_other_errors(model: InputModel) -> None:
    body = {"input": {"f": "/etc/passwd", "doc": 3, "maybe": "file:///x"}}
    assert [(e["loc"][2], e["msg"][:14]) for e in refusal(model, body)] == [
        ("f", '"/etc/passwd" '),
        ("doc", "3 is not of ty"),
        ("maybe", '"file:///x" is'),
    ]


def test_a_bad_envelope_lists_the_file_refusal_too(model: InputModel) -> None:
    body = {"id": 5, "input": {"f": "/etc/passwd"}}
    assert [e["loc"] for e in refusal(model, body, RequestError)] == [
        ["body", "id"],
        ["body", "input", "f"],
    ]


def test_local_paths_only_when_asked(model: InputModel) -> None:
    """The trusted CLI's switch lets paths through and still checks everything else."""
    body = {"input": {"f": "/etc/passwd", "images": ["predict.py", "https://x/a.png"]}}
    request = decode(model, body, local_paths=True)
    assert request.input["f"] == "/etc/passwd"
    assert request.input["images"] == ["predict.py", "https://x/a.png"]
    with pytest.raises(InputValidationError):
        decode(model, {"input": {"f": 3}}, local_paths=True)
    with pytest.raises(InputValidationError):  # the default is untouched by the twin
        decode(model, body)


def test_a_model_without_file_inputs_decodes_the_same_either_way() -> None:
    def plain(text: str, n: int = 1) -> str:
        return ""

    model = model_for(plain)
    body = {"input": {"text": "/etc/passwd"}}
    assert decode(model, body) == decode(model, body, local_paths=True)


def test_the_check_follows_the_bundled_document() -> None:
    """A ``cog build`` document: ``$ref``'d and union-typed file inputs, and a training input."""
    uri = {"type": "string", "format": "uri"}
    schemas = {
        "Input": {
            "type": "object",
            "required": ["image"],
            "properties": {
                "image": {"allOf": [{"$ref": "#/components/schemas/Image"}]},
                "either": {"anyOf": [uri, {"type": "integer"}]},
            },
        },
        "Image": {**uri, "title": "Image"},
        "TrainingInput": {
            "type": "object",
            "properties": {"weights": {**uri, "title": "Weights"}},
        },
    }
    document = {"components": {"schemas": schemas}}
    predict = InputModel.from_document(document)
    assert decode(predict, {"input": {"image": "data:,x", "either": 3}}).input["either"] == 3
    assert decode(predict, {"input": {"image": "data:,x", "either": "https://x/y"}})
    assert [e["loc"][2] for e in refusal(predict, {"input": {"image": "x.png"}})] == ["image"]
    refused = refusal(predict, {"input": {"image": "data:,x", "either": "/etc/passwd"}})
    assert [e["loc"][2] for e in refused] == ["either"]
    train = InputModel.from_document(document, "TrainingInput")
    assert [e["loc"] for e in refusal(train, {"input": {"weights": "weights.bin"}})] == [
        ["body", "input", "weights"]
    ]


def test_training_inputs_built_from_a_signature_are_checked() -> None:
    def train(weights: Path, steps: int = 1) -> str:
        return ""

    document = build_document(
        None, train_signature=inspect_entry(train), mode="train", cog_version="0.0.0"
    )
    model = InputModel.from_document(document, "TrainingInput")
    assert refusal(model, {"input": {"weights": "/srv/model/weights"}})[0]["loc"] == [
        "body",
        "input",
        "weights",
    ]
    assert decode(model, {"input": {"weights": "https://x/w.tar"}}).input == {
        "weights": "https://x/w.tar"
    }


def test_validate_input_refuses_paths_too(model: InputModel) -> None:
    with pytest.raises(InputValidationError) as info:
        model.validate_input({"f": "/etc/passwd"})
    assert info.value.detail[0]["loc"] == ["body", "input", "f"]


# -- webhooks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["file:///x", "ftp://example.com/hook", "not a url", "gopher://x", "http://", "/hook"],
)
def test_a_webhook_that_is_not_http_is_refused(model: InputModel, url: str) -> None:
    body = {"input": {"f": "data:,x"}, "webhook": url}
    assert refusal(model, body, RequestError) == [
        {
            "loc": ["body", "webhook"],
            "msg": f"{json.dumps(url)} is not an http:// or https:// URL",
            "type": "value_error",
        }
    ]


@pytest.mark.parametrize("url", ["http://example.com/hook", "HTTPS://example.com/h?x=1", ""])
def test_http_webhooks_and_the_empty_string_are_accepted(model: InputModel, url: str) -> None:
    assert decode(model, {"input": {"f": "data:,x"}, "webhook": url}).webhook == url


# -- deep nesting -------------------------------------------------------------------

DEEP = 100_000


def _any(x: Any, items: list[Any], table: dict[str, Any]) -> str:
    return ""


@pytest.mark.parametrize(
    "body",
    [
        b'{"input": ' + b"[" * DEEP,
        b'{"input": ' + b"[" * DEEP + b"]" * DEEP + b"}",
        b"[" * DEEP + b"]" * DEEP,
        b'{"input": {"x": ' + b"[" * DEEP + b"]" * DEEP + b"}}",
        b'{"input": {"items": [' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"]}}",
        b'{"id": 5, "input": {"table": ' + b'{"a":' * DEEP + b"1" + b"}" * DEEP + b"}}",
        b'{"context": ' + b"[" * DEEP + b"]" * DEEP + b"}",
    ],
    ids=["unclosed", "input", "top", "any", "list", "slow-path", "context"],
)
def test_deeply_nested_json_is_malformed(body: bytes) -> None:
    model = model_for(_any)
    with pytest.raises(MalformedRequestError, match="nested too deeply"):
        model.decode_request(body)


def test_nesting_the_decoder_can_take_still_validates() -> None:
    model = model_for(_any)
    body = {"input": {"x": {"a": [[[[{"b": 1}]]]]}, "items": [], "table": {}}}
    assert decode(model, body).input["x"] == {"a": [[[[{"b": 1}]]]]}
    nested = msgspec.json.decode(b'{"a":' * 100 + b"1" + b"}" * 100)
    assert decode(model, {"input": {"x": nested, "items": [], "table": {}}}).input["x"] == nested
