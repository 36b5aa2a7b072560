"""Validated input -> predictor keyword arguments, recorded input and downloads (§8.3-§8.5)."""

from __future__ import annotations

import base64
import io
import pathlib
from typing import Any

import pytest

from cogrt.errors import InputDownloadError
from cogrt.schema.arguments import DownloadKey
from cogrt.schema.inputs import build_arguments, download_targets, recorded_input
from cogrt.schema.signature import Signature, inspect_entry
from cogrt.sdk.input import Input
from cogrt.sdk.types import File, Path, Secret, URLFile

PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG").decode()


def predict(
    image: Path,
    extra: list[Path] = Input(default=["https://example.invalid/default.txt"]),
    doc: File | None = None,
    token: Secret = Input(default=None),
    tokens: list[Secret] = Input(default=[]),
    prompt: str = "hello",
    seed: int | None = None,
    maybe: str | None = Input(description="no default"),
    options: dict[str, Any] = Input(default={"k": [1]}),
) -> str:
    return ""


@pytest.fixture(scope="module")
def signature() -> Signature:
    return inspect_entry(predict)


def test_download_targets_lists_remote_path_values_with_their_positions(
    signature: Signature,
) -> None:
    validated = {
        "image": "http://host.invalid/a.png",
        "extra": ["local.txt", PNG, "https://host.invalid/b.txt"],
        "prompt": "https://not-a-path.invalid/",
    }
    assert download_targets(signature, validated) == [
        ("image", None, "http://host.invalid/a.png"),
        ("extra", 1, PNG),
        ("extra", 2, "https://host.invalid/b.txt"),
    ]


def test_download_targets_include_remote_defaults(signature: Signature) -> None:
    assert download_targets(signature, {"image": "local.png"}) == [
        ("extra", 0, "https://example.invalid/default.txt")
    ]


def test_every_declared_input_gets_an_argument(signature: Signature) -> None:
    downloaded: dict[DownloadKey, Path] = {("extra", 0): Path("/tmp/x/default.txt")}
    kwargs = build_arguments(signature, {"image": "in/local.png", "maybe": None}, downloaded)
    assert list(kwargs) == [
        "image",
        "extra",
        "doc",
        "token",
        "tokens",
        "prompt",
        "seed",
        "maybe",
        "options",
    ]
    assert kwargs["image"] == Path("in/local.png") and isinstance(kwargs["image"], Path)
    assert kwargs["extra"] == [Path("/tmp/x/default.txt")]
    assert kwargs["doc"] is None and kwargs["token"] is None
    assert kwargs["tokens"] == [] and kwargs["prompt"] == "hello"
    assert kwargs["seed"] is None and kwargs["maybe"] is None


def test_defaults_are_fresh_copies(signature: Signature) -> None:
    first = build_arguments(signature, {"image": "a"}, {("extra", 0): Path("/d")})
    first["options"]["k"].append(2)
    second = build_arguments(signature, {"image": "a"}, {("extra", 0): Path("/d")})
    assert second["options"] == {"k": [1]}


def test_downloaded_paths_replace_urls(signature: Signature) -> None:
    validated = {"image": "https://h.invalid/a.png", "extra": ["x.txt", PNG]}
    downloaded: dict[DownloadKey, Path] = {
        ("image", None): Path("/tmp/a.png"),
        ("extra", 1): Path("/tmp/file.png"),
    }
    kwargs = build_arguments(signature, validated, downloaded)
    assert kwargs["image"] == Path("/tmp/a.png")
    assert kwargs["extra"] == [Path("x.txt"), Path("/tmp/file.png")]
    assert all(isinstance(p, Path) for p in kwargs["extra"])


def test_a_url_that_was_not_downloaded_is_a_bug_not_a_silent_string(
    signature: Signature,
) -> None:
    with pytest.raises(LookupError, match="image"):
        build_arguments(signature, {"image": "https://h.invalid/a.png", "extra": []}, {})


def test_secrets_are_wrapped_including_list_elements(signature: Signature) -> None:
    validated = {"image": "a", "extra": [], "token": "s3cret", "tokens": ["x", "y"]}
    kwargs = build_arguments(signature, validated, {})
    assert kwargs["token"] == Secret("s3cret")
    assert [t.get_secret_value() for t in kwargs["tokens"]] == ["x", "y"]
    assert all(isinstance(t, Secret) for t in kwargs["tokens"])


def test_file_input_from_a_data_uri_is_an_in_memory_file(signature: Signature) -> None:
    kwargs = build_arguments(signature, {"image": "a", "extra": [], "doc": PNG}, {})
    assert isinstance(kwargs["doc"], io.BytesIO)
    assert kwargs["doc"].read() == b"\x89PNG"


def test_file_input_from_a_url_is_lazy(signature: Signature) -> None:
    validated = {"image": "a", "extra": [], "doc": "https://h.invalid/d.bin"}
    kwargs = build_arguments(signature, validated, {}, user_agent="agent/1")
    assert isinstance(kwargs["doc"], URLFile)
    assert kwargs["doc"].url == "https://h.invalid/d.bin"
    kwargs["doc"].close()  # never read: no connection was opened


def test_a_file_input_may_be_a_local_file_only_where_validation_let_it_through(
    signature: Signature, tmp_path: pathlib.Path
) -> None:
    """Only ``predict -i doc=@file`` (or a model default) reaches here with a path:
    a request's file inputs are validated as URLs first (tests/schema/test_request_trust.py)."""
    local = tmp_path / "d.bin"
    local.write_bytes(b"local bytes")
    kwargs = build_arguments(signature, {"image": "a", "extra": [], "doc": str(local)}, {})
    with kwargs["doc"] as doc:
        assert doc.read() == b"local bytes"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("ftp://h.invalid/d.bin", "'ftp' is not a valid URL scheme"),
        ("relative/missing.bin", "cannot read 'relative/missing.bin'"),
        ("data:text/plain;base64,@@@", "not valid base64"),
    ],
)
def test_file_input_failures_name_the_input(signature: Signature, value: str, reason: str) -> None:
    with pytest.raises(InputDownloadError) as info:
        build_arguments(signature, {"image": "a", "extra": [], "doc": value}, {})
    assert str(info.value).startswith("Input validation error: ")
    assert reason in str(info.value) and str(info.value).endswith("for input 'doc'")
    assert info.value.input_name == "doc"


def test_recorded_input_masks_secrets(signature: Signature) -> None:
    validated: dict[str, Any] = {"image": "a", "token": "s3cret", "tokens": ["x", None]}
    assert recorded_input(signature, validated) == {
        "image": "a",
        "token": "**********",
        "tokens": ["**********", None],
    }
    assert validated["token"] == "s3cret"  # the validated input is not modified
    assert recorded_input(signature, {"token": None}) == {"token": None}


def test_passthrough_predictors_receive_undeclared_keys() -> None:
    def everything(**kwargs: Any) -> str:
        return ""

    signature = inspect_entry(everything)
    assert build_arguments(signature, {"a": 1, "b": [2]}, {}) == {"a": 1, "b": [2]}


def test_absent_required_input_is_left_for_python_to_report() -> None:
    def needs(x: int) -> int:
        return x

    assert build_arguments(inspect_entry(needs), {}, {}) == {}
