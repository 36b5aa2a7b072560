"""The modern interface document's examples (issue 17): optional inputs and metrics."""

from __future__ import annotations

from pathlib import Path

from tests.support.harness import running, served
from tests.support.predictors import PredictorFolder

SEEDS = PredictorFolder(Path(__file__).resolve().parent / "predictors")


async def test_null_for_an_optional_input_is_none() -> None:
    async with served(SEEDS.ref("modern_optional")) as (client, _):
        schema = (await client.get("/openapi.json")).json()
        properties = schema["components"]["schemas"]["Input"]["properties"]
        assert properties["temperature"]["nullable"] is True
        assert properties["max_tokens"]["nullable"] is True
        body = {"input": {"prompt": "hi", "temperature": None, "max_tokens": None}}
        answer = (await client.post("/predictions", json=body)).json()
        assert answer["status"] == "succeeded", answer
        assert answer["output"] == "prompt='hi' temperature=None max_tokens=None"
        assert answer["input"] == body["input"]
        omitted = (await client.post("/predictions", json={"input": {"prompt": "hi"}})).json()
        assert omitted["output"] == "prompt='hi' temperature=None max_tokens=100"
        refused = await client.post("/predictions", json={"input": {"prompt": None}})
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["msg"] == 'null is not of type "string"'


async def test_float_input_sent_as_an_integer_stays_an_integer() -> None:
    """As in Cog 0.23.1 (docs/models.md): ``1`` for a ``float`` input arrives as ``1``."""
    async with served(SEEDS.ref("modern_optional")) as (client, _):
        body = {"input": {"prompt": "hi", "temperature": 1}}
        answer = (await client.post("/predictions", json=body)).json()
    assert answer["output"] == "prompt='hi' temperature=1 max_tokens=100"


async def test_record_metric_examples_and_replace_of_another_type(stubbed_torch: None) -> None:
    async with running(SEEDS.ref("modern_metrics")) as runtime:
        result = await runtime.predict({"prompt": "hi"})
    assert result["status"] == "succeeded", result
    assert result["output"] == "HI"
    metrics = dict(result["metrics"])
    metrics.pop("predict_time")
    assert metrics == {
        "temperature": "hot",
        "timing": {"preprocess": {"ms": 120}},
        "steps": ["preprocessing"],
        "count": 1.5,
    }
    assert "cogrt: metric 'temperature' was not recorded: cannot increment a str" in result["logs"]
