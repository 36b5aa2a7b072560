"""The legacy interface document's opening example, end to end over HTTP (issue 17).

``@cog.input("scale", ...)`` is declared on ``def predict(self, input):``: the
input is documented and validated, ``predict()`` is called with what it
takes, and start-up names the mismatch once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from cogrt.errors import PredictorDefinitionError
from cogrt.runner.runtime import Runtime
from tests.seeds.conftest import STUBS
from tests.support.data_uris import data_uri, decode_data_uri
from tests.support.predictors import PredictorFolder
from tests.support.server_process import reaped

SEEDS = PredictorFolder(Path(__file__).resolve().parent / "predictors")
IMAGE = b"\x89PNG\r\n\x1a\n not really an image"


def test_the_opening_example_serves_and_predicts(http: str) -> None:
    command = [sys.executable, "-m", "cogrt", "legacy_image_scaling.py:ImageScalingPredictor"]
    command += ["--host", "127.0.0.1", "--port", "0", "--http", http]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(STUBS), os.getcwd()])}
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(command, cwd=SEEDS.path, stdout=sink, stderr=sink, env=env)
        with reaped(process, log) as server, httpx.Client(timeout=30) as client:
            schema = client.get(f"{server.url}/openapi.json").json()
            properties = schema["components"]["schemas"]["Input"]["properties"]
            assert list(properties) == ["input", "scale"]
            assert properties["scale"]["default"] == 1.5
            for given in ({}, {"scale": 3.0}):
                body = {"input": {"input": data_uri(IMAGE, "image/png"), **given}}
                answer = client.post(f"{server.url}/predictions", json=body).json()
                assert answer["status"] == "succeeded", answer
                assert decode_data_uri(answer["output"])[1] == IMAGE
            refused = client.post(f"{server.url}/predictions", json={"input": {"scale": "x"}})
            assert refused.status_code == 422  # still validated: input missing, scale a string
            output = server.output()
    warnings = [line for line in output.splitlines() if "@cog.input" in line]
    assert len(warnings) == 1, output
    assert "'scale'" in warnings[0] and "not passed" in warnings[0]


async def test_a_parameter_no_cog_input_declares_is_a_definition_error(
    stubbed_torch: None,
) -> None:
    async with Runtime(SEEDS.ref("legacy_undeclared_parameter", "ImageScalingPredictor")) as rt:
        assert await rt.wait_setup(30) == "SETUP_FAILED"
        logs = (await rt.health())["setup"]["logs"]
    assert PredictorDefinitionError.__name__ in logs
    assert "parameter 'scale' without a default that no @cog.input declares" in logs


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, "input=None scale=None"),
        ({"input": None, "scale": None}, "input=None scale=None"),
        ({"scale": 2}, "input=None scale=2"),
    ],
)
async def test_default_none_makes_an_input_optional_and_null_means_none(
    given: dict[str, object], expected: str
) -> None:
    """ "If it is explicitly set to None, the input is optional": ``null`` is accepted too."""
    async with Runtime(SEEDS.ref("legacy_optional")) as runtime:
        assert await runtime.wait_setup(30) == "READY"
        result = await runtime.predict(given)
    assert result["status"] == "succeeded", result
    assert result["output"] == expected
