"""A file object returned by a sync ``predict()`` is one file output, not an iterator of lines."""

from __future__ import annotations

from pathlib import Path

from cogrt.runner.runtime import Runtime
from tests.support.predictors import PredictorFolder

models = PredictorFolder(Path(__file__).resolve().parent.parent / "testing" / "predictors")


async def test_a_returned_file_object_becomes_a_data_uri() -> None:
    async with Runtime(models.load("models").Buffer) as runtime:
        await runtime.wait_setup()
        response = await runtime.predict({"text": "kept"})
    assert response["status"] == "succeeded", response["error"]
    assert response["output"] == "data:text/plain;base64,a2VwdA=="
