"""Request bodies from ``-i`` (typed by the schema, files as data URIs) and from JSONL."""

from __future__ import annotations

import base64
from pathlib import Path

import msgspec
import pytest

from cogrt.bench.inputs import load_inputs
from cogrt.errors import BenchError

SCHEMA = msgspec.json.encode(
    {
        "components": {
            "schemas": {
                "Input": {
                    "properties": {
                        "prompt": {"type": "string"},
                        "steps": {"type": "integer"},
                        "image": {"type": "string", "format": "uri"},
                    }
                }
            }
        }
    }
)


def test_pairs_are_typed_by_the_schema() -> None:
    bodies = load_inputs(["prompt=42", "steps=42"], None, SCHEMA)
    assert bodies == [{"input": {"prompt": "42", "steps": 42}}]


def test_a_file_becomes_a_data_uri(tmp_path: Path) -> None:
    picture = tmp_path / "cat.png"
    picture.write_bytes(b"\x89PNG fake")
    (body,) = load_inputs([f"image=@{picture}"], None, SCHEMA)
    uri = body["input"]["image"]
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == b"\x89PNG fake"


def test_missing_file_is_named() -> None:
    with pytest.raises(BenchError, match="cannot read the file"):
        load_inputs(["image=@/nonexistent/cat.png"], None, SCHEMA)


def test_jsonl_lines_are_inputs_or_request_bodies(tmp_path: Path) -> None:
    lines = tmp_path / "in.jsonl"
    lines.write_text('{"prompt": "a"}\n\n{"input": {"prompt": "b", "steps": 3}}\n')
    assert load_inputs([], str(lines), SCHEMA) == [
        {"input": {"prompt": "a"}},
        {"input": {"prompt": "b", "steps": 3}},
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no inputs"),
        ("{not json\n", "line 1: not JSON"),
        ('{"prompt": "a"}\n[1, 2]\n', "line 2: expected a JSON object"),
        ('{"promt": "a"}\n', "no input named 'promt'"),
    ],
)
def test_bad_jsonl(tmp_path: Path, text: str, message: str) -> None:
    lines = tmp_path / "in.jsonl"
    lines.write_text(text)
    with pytest.raises(BenchError, match=message):
        load_inputs([], str(lines), SCHEMA)


def test_pairs_and_file_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match="exclude each other"):
        load_inputs(["prompt=a"], str(tmp_path / "x.jsonl"), SCHEMA)


def test_without_a_schema_names_are_not_checked() -> None:
    assert load_inputs(["anything=1"], None, None) == [{"input": {"anything": "1"}}]
