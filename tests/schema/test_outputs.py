"""Python output values -> JSON data, one test per row of spec §10.1."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import io
import json
import math
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest

from cogrt.errors import OutputEncodingError
from cogrt.schema.outputs import to_jsonable
from cogrt.sdk.model import BaseModel
from cogrt.sdk.types import Path, Secret


def no_files(value: Any) -> Any:
    raise AssertionError(f"unexpected file {value!r}")


def convert(value: Any) -> Any:
    return to_jsonable(value, no_files)


@pytest.mark.parametrize("value", [None, True, False, 0, -7, 2**70, 1.5, 0.0, "", "text"])
def test_json_primitives_pass_through(value: Any) -> None:
    result = convert(value)
    assert result == value and type(result) is type(value)


def test_dict_keys_are_stringified_like_json_dumps() -> None:
    value = {"s": 1, 2: "int", 1.5: "float", True: "bool", None: "none"}
    assert convert(value) == json.loads(json.dumps(value))
    assert list(convert(value)) == ["s", "2", "1.5", "true", "null"]


def test_dict_key_that_json_cannot_write() -> None:
    with pytest.raises(OutputEncodingError, match="tuple"):
        convert({(1, 2): "x"})


@pytest.mark.parametrize(
    "value",
    [[1, "a"], (1, "a"), {1, "a"}, frozenset({1, "a"}), (x for x in (1, "a"))],
    ids=["list", "tuple", "set", "frozenset", "generator"],
)
def test_collections_become_arrays(value: Any) -> None:
    result = convert(value)
    assert isinstance(result, list) and sorted(map(str, result)) == ["1", "a"]


class PydanticV2Like:
    def model_dump(self) -> dict[str, Any]:
        return {"when": datetime.datetime(2025, 1, 2, 3, 4, 5), "n": 1}


class PydanticV1Like:
    def dict(self) -> dict[str, Any]:
        return {"color": Color.RED}


def test_pydantic_v2_models_use_model_dump() -> None:
    assert convert(PydanticV2Like()) == {"when": "2025-01-02T03:04:05", "n": 1}


def test_pydantic_v1_models_use_dict() -> None:
    assert convert(PydanticV1Like()) == {"color": "red"}


def test_real_pydantic_model() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Item(pydantic.BaseModel):  # type: ignore[name-defined,misc]
        name: str
        extra: str | None = None

    assert convert(Item(name="x")) == {"name": "x", "extra": None}


class Output(BaseModel):
    name: str
    file: Path
    note: str | None = None


@dataclasses.dataclass
class Plain:
    values: list[float]
    inner: Any


def test_dataclasses_and_cog_models_become_field_dicts() -> None:
    files: list[Any] = []

    def on_file(value: Any) -> str:
        files.append(value)
        return f"file://{os.fspath(value)}"

    model = Output(name="x", file=Path("/o.png"))  # type: ignore[call-arg]
    result = to_jsonable(Plain([1.0], model), on_file)
    assert result == {
        "values": [1.0],
        "inner": {"name": "x", "file": "file:///o.png", "note": None},
    }
    assert files == [Path("/o.png")]


class Color(str, enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


def test_enums_become_their_values() -> None:
    assert convert([Color.RED, Level.HIGH]) == ["red", 3]
    assert type(convert(Level.HIGH)) is int and type(convert(Color.RED)) is str


def test_datetime_becomes_isoformat() -> None:
    moment = datetime.datetime(2025, 1, 15, 10, 30, 1, 123456, tzinfo=datetime.timezone.utc)
    assert convert(moment) == "2025-01-15T10:30:01.123456+00:00"


def test_secrets_are_masked() -> None:
    assert convert({"token": Secret("s3cret"), "list": [Secret("x")]}) == {
        "token": "**********",
        "list": ["**********"],
    }


@pytest.mark.parametrize(
    "value",
    [Path("/tmp/a.png"), pathlib.PurePosixPath("b.txt"), io.BytesIO(b"x"), io.StringIO("y")],
)
def test_files_go_through_the_hook_wherever_they_are(value: Any) -> None:
    seen: list[Any] = []

    def on_file(item: Any) -> str:
        seen.append(item)
        return f"uri-{len(seen)}"

    assert to_jsonable(value, on_file) == "uri-1"
    assert to_jsonable({"k": [value]}, on_file) == {"k": ["uri-2"]}
    assert seen == [value, value]


def test_subclasses_of_primitives_become_plain() -> None:
    class Name(str):
        pass

    class Count(int):
        pass

    result = convert([Name("n"), Count(3), 2.5])
    assert [type(v) for v in result] == [str, int, float]


@pytest.mark.parametrize(
    ("value", "name"),
    [(b"bytes", "bytes"), (datetime.date(2025, 1, 1), "date"), (object(), "object")],
)
def test_values_without_json_form_fail_naming_the_type(value: Any, name: str) -> None:
    with pytest.raises(OutputEncodingError, match=f"Object of type {name} is not JSON"):
        convert({"nested": [value]})


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_fail_anywhere(bad: float) -> None:
    for value in (bad, [1.0, bad], {"k": {"j": bad}}, Plain([bad], None)):
        with pytest.raises(OutputEncodingError, match="JSON cannot represent"):
            convert(value)


def test_numpy_values() -> None:
    np = pytest.importorskip("numpy")
    result = convert([np.int64(3), np.float32(1.5), np.bool_(True), np.array([[1, 2]])])
    assert result == [3, 1.5, True, [[1, 2]]]
    assert [type(v) for v in result[:3]] == [int, float, bool]
    with pytest.raises(OutputEncodingError):
        convert(np.array([np.nan]))
    with pytest.raises(OutputEncodingError):
        convert(np.float64(np.inf))


def test_numpy_is_not_imported_for_other_values() -> None:
    code = (
        "import sys; from cogrt.schema.outputs import to_jsonable;"
        "to_jsonable({'a': [1.5, b'x'.decode()]}, print);"
        "assert 'numpy' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
