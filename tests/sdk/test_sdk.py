"""The names model code imports from ``cog`` (spec §3) behave as Cog's do."""

from __future__ import annotations

import importlib
import pathlib
import subprocess
import sys

import pytest

import cog
import cogrt.sdk
from cogrt.errors import CancelationException


def test_cog_reexports_every_sdk_name() -> None:
    for name in cogrt.sdk.__all__:
        assert getattr(cog, name) is getattr(cogrt.sdk, name)


def test_sdk_all_is_sorted() -> None:
    assert cogrt.sdk.__all__ == sorted(cogrt.sdk.__all__)


@pytest.mark.parametrize(
    ("module", "names"),
    [
        (
            "cog.types",
            [
                "Path",
                "File",
                "Secret",
                "URLFile",
                "URLPath",
                "ConcatenateIterator",
                "AsyncConcatenateIterator",
            ],
        ),
        ("cog.predictor", ["BasePredictor", "BaseRunner"]),
        ("cog.input", ["Input", "FieldInfo"]),
        ("cog.model", ["BaseModel"]),
        ("cog.exceptions", ["CancelationException"]),
        ("cog.server.exceptions", ["CancelationException"]),
    ],
)
def test_submodules_models_import(module: str, names: list[str]) -> None:
    imported = importlib.import_module(module)
    for name in names:
        assert hasattr(imported, name), f"{module}.{name}"


def test_cog_input_is_both_module_and_legacy_decorator() -> None:
    import cog.input

    assert cog.input.Input is cog.Input
    decorator = cog.input("x", type=int, default=1)
    assert callable(decorator)


def test_cancelation_exception_is_not_an_exception() -> None:
    assert issubclass(CancelationException, BaseException)
    assert not issubclass(CancelationException, Exception)
    assert cog.CancelationException is CancelationException
    assert (
        importlib.import_module("cog.server.exceptions").CancelationException
        is CancelationException
    )


def test_secret_masks_its_value() -> None:
    secret = cog.Secret("hunter2")
    assert str(secret) == "**********"
    assert repr(secret) == "Secret(**********)"
    assert secret.get_secret_value() == "hunter2"
    assert str(cog.Secret(None)) == ""


def test_path_is_a_posix_path() -> None:
    assert isinstance(cog.Path("/tmp/x"), pathlib.PosixPath)
    assert cog.Path.validate("/tmp/x") == cog.Path("/tmp/x")


def test_base_model_subclasses_become_dataclasses() -> None:
    class Output(cog.BaseModel):
        seed: int
        label: str = "x"

    assert Output(seed=3) == Output(seed=3, label="x")


def test_base_model_rejects_foreign_first_base() -> None:
    class Mixin:
        pass

    with pytest.raises(TypeError, match="first base class"):

        class Bad(Mixin, cog.BaseModel):  # noqa: F841
            x: int


def test_input_rejects_default_factory() -> None:
    with pytest.raises(TypeError, match="literal default"):
        cog.Input(default_factory=list)


def test_input_keeps_default_none_apart_from_no_default() -> None:
    assert cog.Input().default is None and not cog.Input().default_given
    assert cog.Input(default=None).default_given
    assert cog.Input(None).default_given


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max": "2"}, TypeError, "concurrent max must be an integer"),
        ({"max": True}, TypeError, "concurrent max must be an integer"),
        ({"max": 0}, ValueError, "concurrent max must be at least 1"),
    ],
)
def test_concurrent_validates_max(kwargs: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        cog.concurrent(**kwargs)


def test_concurrent_above_one_requires_async() -> None:
    with pytest.raises(TypeError, match="requires an async function"):
        cog.concurrent(max=2)(lambda: None)
    with pytest.raises(TypeError, match=r"@concurrent\(max=...\)"):
        cog.concurrent(max=1)(3)


def test_streaming_marks_in_both_forms() -> None:
    @cog.streaming
    def a() -> None: ...

    @cog.streaming()
    def b() -> None: ...

    assert a.__cog_streaming__ and b.__cog_streaming__


def test_opaque_repr() -> None:
    assert repr(cog.Opaque) == "cog.Opaque"


@pytest.mark.parametrize(
    ("name", "notice"),
    [
        ("emit_metric", "cog: emit_metric() is deprecated"),
        ("ExperimentalFeatureWarning", "cog: ExperimentalFeatureWarning is deprecated"),
    ],
)
def test_deprecated_names_print_a_notice_once(name: str, notice: str) -> None:
    code = f"import cog; cog.{name}; cog.{name}; from cog import {name}"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stderr.count(notice) == 1


def test_experimental_feature_warning_is_a_future_warning() -> None:
    warning = cogrt.sdk.deprecated_attribute("ExperimentalFeatureWarning")
    assert issubclass(warning, FutureWarning)


def test_unknown_attribute_raises() -> None:
    with pytest.raises(AttributeError):
        cog.does_not_exist  # noqa: B018
