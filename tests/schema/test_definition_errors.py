"""Predictor definitions that must fail at load time (spec §4.1, §5, §6.2, §6.4).

The broken predictors are defined inline, one per case: ``tests/predictors``
holds only valid models, since every file there is checked against a golden.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import pytest

from cogrt.errors import PredictorDefinitionError
from cogrt.runner.loader import resolve
from cogrt.schema.signature import Signature, inspect_entry
from cogrt.sdk import BasePredictor, BaseRunner, File, Input, Path, Predictor, Secret
from cogrt.sdk import input as legacy_input


def signature_of(predictor: Any, mode: Any = "predict") -> Signature:
    return inspect_entry(resolve(predictor, mode).entry)


def _predictor(annotation: Any, info: Any) -> type:
    """A predictor whose one input is ``x: annotation = info``."""

    def predict(self: Any, x: Any = info) -> str:
        return ""

    predict.__annotations__ = {"x": annotation, "return": str}
    return type("Broken", (BasePredictor,), {"predict": predict})


@pytest.mark.parametrize(
    ("annotation", "info", "message"),
    [
        (str, Input(ge=1), "incompatible input type for ge/le: x: str"),
        (Path, Input(le=3), "incompatible input type for ge/le: x: path"),
        (list[int], Input(ge=0), "incompatible input type for ge/le: x: list[int]"),
        (bool, Input(le=1), "incompatible input type for ge/le: x: bool"),
        (int, Input(min_length=1), "incompatible input type for min_length/max_length: x: int"),
        (list[str], Input(max_length=4), "for min_length/max_length: x: list[str]"),
        (Secret, Input(max_length=4), "for min_length/max_length: x: secret"),
        (float, Input(regex="^a"), "incompatible input type for regex: x: float"),
        (str, Input(regex="(unclosed"), "invalid regex for input x"),
        (str, Input(accept="image/*"), "accept is only valid on Path or File inputs"),
        (list[str], Input(accept="text/*"), "accept is only valid on Path or File inputs"),
        (float, Input(choices=[0.5, 1.5]), "incompatible input type for choices: x: float"),
        (bool, Input(choices=[True, False]), "incompatible input type for choices: x: bool"),
        (list[str], Input(choices=["a", "b"]), "incompatible input type for choices"),
        (str, Input(choices=["only"]), "choices must have at least 2 values: x has 1"),
        (int, Input(choices=[]), "choices must have at least 2 values: x has 0"),
        (int, Input(choices=[1, 2], ge=1), "choices and ge/le are mutually exclusive: x"),
        (int, Input(choices=[1, 2], le=5), "choices and ge/le are mutually exclusive: x"),
        (str, Input(choices=["a", "b"], min_length=1), "choices and min_length/max_length"),
        (str, Input(choices=["a", "b"], max_length=1), "choices and min_length/max_length"),
        (str, Input(choices=["a", 2]), "choices for x must all be str, got 2"),
        (int, Input(choices=[1, "2"]), "choices for x must all be int, got '2'"),
        (int, Input(choices=[1, True]), "choices for x must all be int, got True"),
        (Literal[0.5, 1.5], Input(), "incompatible input type for choices: x: float"),
    ],
)
def test_input_definition_errors_fail_setup(annotation: Any, info: Any, message: str) -> None:
    with pytest.raises(PredictorDefinitionError) as caught:
        signature_of(_predictor(annotation, info))
    assert message in str(caught.value)


@pytest.mark.parametrize("annotation", [Path, File, list[Path]])
def test_accept_is_fine_on_files(annotation: Any) -> None:
    sig = signature_of(_predictor(annotation, Input(accept="image/*")))
    assert sig.inputs[0].accept == "image/*"


def test_default_factory_is_a_type_error_naming_the_fix() -> None:
    with pytest.raises(TypeError, match="default_factory.*literal default"):
        Input(default_factory=list)


@pytest.mark.parametrize(
    ("annotation", "info", "message"),
    [
        (int, Input(default=1, ge=2), "invalid default for x: int: must be at minimum 2"),
        (float, Input(default=2.5, le=1), "invalid default for x: float: must be at maximum 1"),
        (str, Input(default="ab", min_length=3), "default conflicts with min_length=3"),
        (str, Input(default="abcd", max_length=3), "default conflicts with max_length=3"),
        (str, Input(default="abc", regex="^z"), "default not a regex match for input: x: str"),
        (int, Input(default="many"), "invalid default for x: int: 'many' is not of type int"),
        (int, Input(default=1.5), "invalid default for x: int: 1.5 is not of type int"),
        (str, Input(default=5), "invalid default for x: str: 5 is not of type str"),
        (
            list[int],
            Input(default=[1, "b"]),
            "invalid default for x: list[int]: 'b' is not of type int",
        ),
    ],
)
def test_a_default_contradicting_its_input_fails_setup(
    annotation: Any, info: Any, message: str
) -> None:
    """As in Cog's current SDK, which refuses them at start-up with these messages."""
    with pytest.raises(PredictorDefinitionError, match=re.escape(message)):
        signature_of(_predictor(annotation, info))


@pytest.mark.parametrize(
    ("annotation", "default"), [(float, 1), (int, 2.0), (int, "3"), (float, "0.5"), (bool, 1)]
)
def test_defaults_cog_converts_are_accepted(annotation: Any, default: Any) -> None:
    assert signature_of(_predictor(annotation, Input(default=default))).inputs[0].has_default


def test_a_default_outside_its_choices_only_warns() -> None:
    """Cog does not check a default against ``choices``, and serves it."""
    sig = signature_of(_predictor(str, Input(default="c", choices=["a", "b"])))
    assert sig.inputs[0].default == "c"
    assert any("violates its constraints" in warning for warning in sig.warnings)


def test_run_and_predict_together_fail() -> None:
    class Both(BaseRunner):
        def run(self, x: int) -> int:
            return x

        def predict(self, x: int) -> int:
            return x

    with pytest.raises(PredictorDefinitionError, match=r"Both must define either run\(\) or "):
        resolve(Both)


def test_neither_run_nor_predict_fails() -> None:
    class Neither(BasePredictor):
        def setup(self) -> None:
            pass

    with pytest.raises(PredictorDefinitionError, match="run or predict method not found: Neither"):
        resolve(Neither)


def test_a_mixin_after_the_base_does_not_count() -> None:
    class Mixin:
        def predict(self, x: int) -> int:
            return x

    class Runner(BaseRunner, Mixin):
        def run(self, y: str) -> str:
            return y

    assert [f.name for f in signature_of(Runner).inputs] == ["y"]


def test_train_mode_needs_a_train_method() -> None:
    class OnlyPredict(BasePredictor):
        def predict(self, x: int) -> int:
            return x

    with pytest.raises(PredictorDefinitionError, match="train method not found: OnlyPredict"):
        resolve(OnlyPredict, "train")


def test_star_args_fail_with_the_parameter_name() -> None:
    class Star(BasePredictor):
        def predict(self, *images: str) -> str:
            return ""

    with pytest.raises(PredictorDefinitionError, match=r"\*images is not supported"):
        signature_of(Star)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"type": list}, ValueError, "type must be str, int, float, bool or Path"),
        ({"type": str, "min": 1}, ValueError, "min and max are only valid for int and float"),
        ({"type": int, "options": [1]}, ValueError, "options must list at least 2 values"),
        ({"type": Path, "options": ["a", "b"]}, ValueError, "options are not supported for Path"),
        ({"type": Path, "default": "x.png"}, TypeError, "a Path input can only default to None"),
    ],
)
def test_legacy_input_errors_at_import(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        legacy_input("x", **kwargs)


def test_legacy_duplicate_input_name_fails() -> None:
    with pytest.raises(ValueError, match="input 'x' is declared twice"):

        class Twice(Predictor):
            @legacy_input("x", type=int)
            @legacy_input("x", type=str)
            def predict(self, x: Any) -> Any:
                return x
