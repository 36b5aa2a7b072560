"""Request decoding and input validation (spec §8.1-§8.2), message for message.

Models are built the way the runtime builds them: a predictor's signature ->
cogrt's OpenAPI document -> ``InputModel``; a few tests use a hand-written
document shaped like the one ``cog build`` bakes into an image.
"""

from __future__ import annotations

import enum
import logging
from typing import Any, Literal

import msgspec
import pytest

from cogrt.errors import InputValidationError, MalformedRequestError, RequestError
from cogrt.schema import inputs as inputs_module
from cogrt.schema.inputs import ALL_EVENTS, InputModel, PredictionRequest
from cogrt.schema.msgtypes import field_error_from_msgspec
from cogrt.sdk.input import Input
from tests.support.input_models import decode, errors, model_for


def messages(model: InputModel, input_: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, msg) of every error, after checking each entry's shape."""
    found = []
    for entry in errors(model, {"input": input_}):
        assert len(entry["loc"]) == 3 and entry["loc"][:2] == ["body", "input"]
        assert entry["type"] == "value_error"
        found.append((entry["loc"][2], entry["msg"]))
    return found


class Color(str, enum.Enum):
    RED = "red"
    BLUE = "blue"


def typed(
    n: int = Input(ge=2, le=10),
    f: float = Input(default=1.5, ge=0.5),
    s: str = Input(default="zz", min_length=1, max_length=3),
    r: str = Input(default="abc", regex="b"),
    anchored: str = Input(default="zed", regex="^z"),
    flag: bool = False,
    choice: str = Input(default="foo", choices=["foo", "bar"]),
    number: int = Input(default=3, choices=[3, 4, 5]),
    lit: Literal["x", "y"] = "x",
    color: Color = Color.RED,
    nums: list[int] = Input(default=[1]),
    either: str | int = "q",
    maybe: str | None = None,
    blank: int | None = Input(description="no default"),
    data: dict[str, Any] = Input(default={}),
) -> str:
    return ""


@pytest.fixture(scope="module")
def model() -> InputModel:
    return model_for(typed)


def test_valid_request_records_sent_values_and_injected_nulls(model: InputModel) -> None:
    request = decode(model, {"input": {"n": 2, "f": 10, "s": "abc"}})
    assert request.input == {"n": 2, "f": 10, "s": "abc", "blank": None}
    assert type(request.input["f"]) is int  # a float input given 10 stays an int


def test_missing_required_field(model: InputModel) -> None:
    assert errors(model, {"input": {}}) == [
        {"loc": ["body", "input", "n"], "msg": "Field required", "type": "value_error.missing"}
    ]


def test_missing_input_and_empty_body_mean_an_empty_input(model: InputModel) -> None:
    expected = errors(model, {"input": {}})
    assert errors(model, {}) == expected
    assert errors(model, {"input": None}) == expected
    assert errors(model, b"") == expected
    assert errors(model, b" \n\t") == expected


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("n", "abc", '"abc" is not of type "integer"'),
        ("n", "3", '"3" is not of type "integer"'),
        ("n", True, 'true is not of type "integer"'),
        ("n", 2.0, '2.0 is not of type "integer"'),
        ("n", [3], '[3] is not of type "integer"'),
        ("f", "1.5", '"1.5" is not of type "number"'),
        ("f", False, 'false is not of type "number"'),
        ("s", 5, '5 is not of type "string"'),
        ("flag", 1, '1 is not of type "boolean"'),
        ("nums", 1, '1 is not of type "array"'),
        ("data", [], '[] is not of type "object"'),
    ],
)
def test_wrong_type(model: InputModel, field: str, value: Any, message: str) -> None:
    body = {"n": 5, field: value}
    assert messages(model, body) == [(field, message)]


@pytest.mark.parametrize("field", ["s", "n", "nums", "data", "choice"])
def test_explicit_null_is_rejected_where_the_document_does_not_allow_it(
    model: InputModel, field: str
) -> None:
    kind = {"n": "integer", "nums": "array", "data": "object"}
    expected = f'null is not of type "{kind.get(field, "string")}"'
    assert messages(model, {"n": 5, field: None}) == [(field, expected)]


@pytest.mark.parametrize("field", ["maybe", "blank"])
def test_explicit_null_is_accepted_for_a_nullable_input(model: InputModel, field: str) -> None:
    """The document says ``nullable: true``: ``null`` is the predictor's ``None`` (issue 17)."""
    assert decode(model, {"input": {"n": 5, field: None}}).input[field] is None
    assert model.validate_input({"n": 5, field: None})[field] is None


def test_minimum_and_maximum_are_inclusive(model: InputModel) -> None:
    assert decode(model, {"input": {"n": 2}}).input["n"] == 2
    assert decode(model, {"input": {"n": 10}}).input["n"] == 10
    assert messages(model, {"n": 1}) == [("n", "1 is less than the minimum of 2")]
    assert messages(model, {"n": 11}) == [("n", "11 is greater than the maximum of 10")]
    assert messages(model, {"n": 5, "f": 0.25}) == [("f", "0.25 is less than the minimum of 0.5")]


def test_lengths_count_code_points(model: InputModel) -> None:
    astral = "\U0001f600" * 3  # 12 bytes of UTF-8, 6 UTF-16 units, 3 code points
    assert decode(model, {"input": {"n": 5, "s": astral}}).input["s"] == astral
    assert messages(model, {"n": 5, "s": ""}) == [("s", '"" is shorter than 1 character')]
    assert messages(model, {"n": 5, "s": "abcd"}) == [("s", '"abcd" is longer than 3 characters')]


def test_pattern_is_a_search_not_a_full_match(model: InputModel) -> None:
    assert decode(model, {"input": {"n": 5, "r": "abc"}}).input["r"] == "abc"
    assert messages(model, {"n": 5, "anchored": "abc"}) == [
        ("anchored", '"abc" does not match "^z"')
    ]


def test_choices_are_type_sensitive(model: InputModel) -> None:
    assert decode(model, {"input": {"n": 5, "number": 4}}).input["number"] == 4
    assert messages(model, {"n": 5, "number": "3"}) == [("number", '"3" is not of type "integer"')]
    assert messages(model, {"n": 5, "number": 6}) == [("number", "6 is not one of [3,4,5]")]
    assert messages(model, {"n": 5, "choice": "baz"}) == [
        ("choice", '"baz" is not one of ["foo","bar"]')
    ]


def test_literal_and_enum_inputs_are_choices(model: InputModel) -> None:
    request = decode(model, {"input": {"n": 5, "lit": "y", "color": "blue"}})
    assert request.input["lit"] == "y" and request.input["color"] == "blue"
    assert messages(model, {"n": 5, "lit": "z", "color": "RED"}) == [
        ("lit", '"z" is not one of ["x","y"]'),
        ("color", '"RED" is not one of ["red","blue"]'),
    ]


def test_item_errors_point_at_the_element(model: InputModel) -> None:
    assert messages(model, {"n": 5, "nums": [1, "a", None]}) == [
        ("nums/1", '"a" is not of type "integer"'),
        ("nums/2", 'null is not of type "integer"'),
    ]


def test_any_of_accepts_any_variant_and_keeps_the_value(model: InputModel) -> None:
    assert decode(model, {"input": {"n": 5, "either": 7}}).input["either"] == 7
    assert decode(model, {"input": {"n": 5, "either": "7"}}).input["either"] == "7"
    assert messages(model, {"n": 5, "either": 1.5}) == [
        ("either", "1.5 is not valid under any of the schemas listed in the 'anyOf' keyword")
    ]


def test_all_errors_are_collected_in_property_order(model: InputModel) -> None:
    found = errors(model, {"input": {"s": "", "nums": ["x"], "flag": "no", "zz": 1}})
    assert [(e["loc"], e["type"]) for e in found] == [
        (["body", "input", "n"], "value_error.missing"),
        (["body", "input", "s"], "value_error"),
        (["body", "input", "flag"], "value_error"),
        (["body", "input", "nums/0"], "value_error"),
    ]


def test_unknown_keys_are_stripped_and_logged(
    model: InputModel, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="cogrt.schema.inputs"):
        request = decode(model, {"input": {"n": 5, "zz": 1, "other": "x"}})
    assert request.input == {"n": 5, "blank": None}
    assert "zz, other" in caplog.text


def test_null_is_injected_only_without_a_default() -> None:
    def predict(
        a: str | None,
        b: str | None = None,
        c: str | int | None = Input(),
        d: list[int] | None = None,
    ) -> str:
        return ""

    model = model_for(predict)
    assert errors(model, {"input": {}}) == [  # c is a required nullable union
        {"loc": ["body", "input", "c"], "msg": "Field required", "type": "value_error.missing"}
    ]
    assert decode(model, {"input": {"c": 1}}).input == {"a": None, "c": 1}


def test_request_envelope_fields() -> None:
    model = model_for(typed)
    body = {
        "id": "abc",
        "input": {"n": 3},
        "context": {"replicate_api_token": "t"},
        "webhook": "http://example.invalid/hook",
        "webhook_events_filter": ["start", "completed"],
        "created_at": "2025-01-01T00:00:00+00:00",
        "output_file_prefix": "ignored",
        "unknown": {"ignored": True},
    }
    request = decode(model, body)
    assert request == PredictionRequest(
        id="abc",
        input={"n": 3, "blank": None},
        context={"replicate_api_token": "t"},
        webhook="http://example.invalid/hook",
        webhook_events_filter=frozenset({"start", "completed"}),
        created_at="2025-01-01T00:00:00+00:00",
    )


def test_events_filter_defaults_to_all_and_empty_means_none(model: InputModel) -> None:
    assert decode(model, {"input": {"n": 3}}).webhook_events_filter == ALL_EVENTS
    assert {"start", "output", "logs", "completed"} == ALL_EVENTS
    body: dict[str, Any] = {"input": {"n": 3}, "webhook_events_filter": None}
    assert decode(model, body).webhook_events_filter == ALL_EVENTS
    body["webhook_events_filter"] = []
    assert decode(model, body).webhook_events_filter == frozenset()


def test_envelope_errors_point_at_the_field(model: InputModel) -> None:
    body = {
        "id": 7,
        "context": {"ok": "x", "bad": 1},
        "webhook_events_filter": ["start", "sometimes"],
        "input": {"n": "x"},
    }
    assert errors(model, body, RequestError) == [
        {"loc": ["body", "id"], "msg": '7 is not of type "string"', "type": "value_error"},
        {
            "loc": ["body", "context", "bad"],
            "msg": '1 is not of type "string"',
            "type": "value_error",
        },
        {
            "loc": ["body", "webhook_events_filter", 1],
            "msg": '"sometimes" is not one of ["start","output","logs","completed"]',
            "type": "value_error",
        },
        {
            "loc": ["body", "input", "n"],
            "msg": '"x" is not of type "integer"',
            "type": "value_error",
        },
    ]


@pytest.mark.parametrize(
    ("body", "loc", "message"),
    [
        ({"context": "x"}, ["body", "context"], '"x" is not of type "object"'),
        (
            {"webhook_events_filter": "start"},
            ["body", "webhook_events_filter"],
            '"start" is not of type "array"',
        ),
        ({"webhook": 1}, ["body", "webhook"], '1 is not of type "string"'),
        ({"created_at": False}, ["body", "created_at"], 'false is not of type "string"'),
    ],
)
def test_envelope_field_of_the_wrong_type(
    model: InputModel, body: dict[str, Any], loc: list[Any], message: str
) -> None:
    body["input"] = {"n": 3}
    assert errors(model, body, RequestError) == [
        {"loc": loc, "msg": message, "type": "value_error"}
    ]


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"3", b"null"])
def test_body_that_is_not_an_object(model: InputModel, body: bytes) -> None:
    (entry,) = errors(model, body, RequestError)
    assert entry["loc"] == ["body"]
    assert entry["msg"].endswith('is not of type "object"')


def test_input_that_is_not_an_object(model: InputModel) -> None:
    assert errors(model, {"input": [1]}) == [
        {
            "loc": ["body", "input", "__root__"],
            "msg": '[1] is not of type "object"',
            "type": "value_error",
        }
    ]


@pytest.mark.parametrize("body", [b"{", b'{"input": }', b"\xff\xfe", b"{} trailing"])
def test_malformed_json_is_a_400(model: InputModel, body: bytes) -> None:
    with pytest.raises(MalformedRequestError, match="Failed to parse the request body as JSON"):
        model.decode_request(body)


def test_validate_input_has_the_same_semantics(model: InputModel) -> None:
    assert model.validate_input({"n": 3, "f": 10, "zz": 1}) == {"n": 3, "f": 10, "blank": None}
    with pytest.raises(InputValidationError) as info:
        model.validate_input({"n": True, "s": None})
    assert [e["msg"] for e in info.value.detail] == [
        'true is not of type "integer"',
        'null is not of type "string"',
    ]


def test_passthrough_keeps_undeclared_keys() -> None:
    def predict(**kwargs: Any) -> str:
        return ""

    model = model_for(predict)
    assert model.passthrough
    assert decode(model, {"input": {"anything": [1, None]}}).input == {"anything": [1, None]}
    assert model.validate_input({"x": 1}) == {"x": 1}


def test_bundled_cog_document_with_untyped_legacy_and_manual_properties() -> None:
    document = {
        "components": {
            "schemas": {
                "Input": {
                    "title": "Input",
                    "type": "object",
                    "required": ["scale"],
                    "properties": {
                        "scale": {"allOf": [{"$ref": "#/components/schemas/scale"}], "x-order": 0},
                        "anything": {"title": "Anything", "x-order": 1},
                        "obj": {"title": "Obj", "type": "object", "x-order": 2},
                        "lists": {
                            "anyOf": [
                                {"type": "array", "items": {"type": "string"}},
                                {"type": "array", "items": {"type": "integer"}},
                            ],
                            "x-order": 3,
                        },
                        "multi": {"type": ["string", "integer"], "x-order": 4},
                    },
                },
                "scale": {"title": "scale", "enum": [0.5, 1, 2.5], "type": "number"},
            }
        }
    }
    model = InputModel.from_document(document)
    ok = {"scale": 1.0, "anything": None, "obj": {"a": [1]}, "lists": [1, 2], "multi": 3}
    assert model.validate_input(ok) == ok
    assert decode(model, {"input": {"scale": 2.5}}).input == {"scale": 2.5}
    assert messages(model, {"scale": 3, "obj": [], "lists": ["a", 1], "multi": 1.5}) == [
        ("scale", "3 is not one of [0.5,1,2.5]"),
        ("obj", '[] is not of type "object"'),
        ("lists", "[\"a\",1] is not valid under any of the schemas listed in the 'anyOf' keyword"),
        ("multi", '1.5 is not of types "string", "integer"'),
    ]
    assert messages(model, {"scale": True}) == [("scale", 'true is not of type "number"')]


def test_missing_component_is_reported() -> None:
    with pytest.raises(ValueError, match="TrainingInput"):
        InputModel.from_document({"components": {"schemas": {}}}, "TrainingInput")


def test_msgspec_message_is_the_fallback(
    model: InputModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inputs_module, "rule_errors", lambda rule, value: iter(()))
    assert messages(model, {"n": "abc"}) == [("n", "Expected `int`, got `str`")]


def test_msgspec_locations_become_json_pointers() -> None:
    with pytest.raises(msgspec.ValidationError) as info:
        shape = msgspec.defstruct("Shape", [("f0", list[int])], rename={"f0": "a.b"})
        msgspec.convert({"a.b": [1, "x"]}, shape)
    entry = field_error_from_msgspec(info.value, ("a", "a.b"))
    assert entry == {
        "loc": ["body", "input", "a.b/1"],
        "msg": "Expected `int`, got `str`",
        "type": "value_error",
    }


def test_long_values_are_cut_in_messages(model: InputModel) -> None:
    ((_, message),) = messages(model, {"n": "x" * 10_000})
    assert message == '"' + "x" * 199 + '... is not of type "integer"'


def test_requests_never_recompile(model: InputModel, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("compiled per request")

    monkeypatch.setattr(msgspec, "defstruct", refuse)
    monkeypatch.setattr(msgspec.json, "Decoder", refuse)
    decode(model, {"input": {"n": 3}})
    errors(model, {"input": {"n": "x", "zz": 1}})
