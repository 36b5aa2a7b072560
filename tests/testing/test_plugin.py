"""The pytest plugin, as a user's project meets it: a sample project run with ``pytester``."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

PREDICT = """
from cog import BasePredictor, Path

SETUPS = Path(__file__).with_name("setups.txt")

class Predictor(BasePredictor):
    def setup(self):
        with open(SETUPS, "a") as count:
            count.write("setup\\n")

    def predict(self, text: str) -> str:
        return "hello " + text

class Shouter(BasePredictor):
    def predict(self, text: str) -> str:
        return text.upper()
"""

TESTS = """
def test_one(cog_client):
    assert cog_client.predict(text="one") == "hello one"

def test_two(cog_client):
    assert cog_client.predict(text="two") == "hello two"

def test_set_up_once(cog_client):
    from predict import SETUPS
    assert SETUPS.read_text() == "setup\\n"
"""


def test_cog_client_loads_the_cog_yaml_predictor_once_per_session(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(".yaml", cog='predict: "predict.py:Predictor"\n')
    pytester.makepyfile(predict=PREDICT, test_model=TESTS)
    pytester.makeini("[pytest]\npythonpath = .\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_client_fixture_takes_a_class_and_the_ini_option_a_reference(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        predict=PREDICT,
        conftest=(
            "from cogrt.testing.plugin import client_fixture\n"
            "from predict import Shouter\n"
            "shouter = client_fixture(Shouter)\n"
        ),
        test_model=(
            "def test_class(shouter):\n"
            "    assert shouter.predict(text='hi') == 'HI'\n"
            "def test_ini(cog_client):\n"
            "    assert cog_client.predict(text='x') == 'X'\n"
        ),
    )
    pytester.makeini("[pytest]\npythonpath = .\ncog_predictor = predict.py:Shouter\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_without_a_predictor_the_fixture_says_how_to_name_one(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_model="def test_it(cog_client):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*cog_client needs a predictor*"])
