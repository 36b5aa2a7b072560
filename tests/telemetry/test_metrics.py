"""``PredictionMetrics`` on a ``Runtime``: phases, statuses, and what stays unloaded."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cogrt.runner.runtime import Runtime
from cogrt.telemetry.exposition import Gauges, MetricsPage
from cogrt.telemetry.metrics import DURATION_BUCKETS, Histogram, PredictionMetrics
from cogrt.telemetry.wiring import observe
from tests.support.file_peer import Peer
from tests.support.metrics_page import Page
from tests.support.predictors import RUNNER

load = RUNNER.load


def counting(predictor: object, **kwargs: object) -> tuple[Runtime, PredictionMetrics]:
    runtime = Runtime(predictor, **kwargs)
    counts = PredictionMetrics()
    runtime.observer = counts
    return runtime, counts


@asynccontextmanager
async def entered(runtime: Runtime) -> AsyncIterator[Runtime]:
    async with runtime:
        await runtime.wait_setup(30)
        yield runtime


def test_histogram_buckets_are_upper_bounds() -> None:
    histogram = Histogram()
    for value in (DURATION_BUCKETS[0], DURATION_BUCKETS[0] * 1.01, 1e9):
        histogram.observe(value)
    assert histogram.counts[0] == 1  # le="0.0005" includes 0.0005 itself
    assert histogram.counts[1] == 1
    assert histogram.counts[-1] == 1  # +Inf
    assert histogram.sum > 1e9


async def test_input_download_phase_with_a_file_input() -> None:
    data = "data:text/plain;base64," + base64.b64encode(b"hello").decode()
    runtime, counts = counting(load("path_in").Predictor)
    async with entered(runtime) as ready:
        result = await ready.predict({"doc": data})
    assert result["output"] == "hello"
    phases = {name: sum(h.counts) for name, h in counts.phases.items()}
    assert phases == {"queue_wait": 1, "input_download": 1, "predict": 1, "output_upload": 0}
    assert counts.predictions == {("succeeded", "predict", "sync"): 1}


async def test_output_upload_phase_with_an_upload_url(peer: Peer) -> None:
    runtime, counts = counting(load("files_out").Predictor, upload_url=f"{peer.base}/upload/")
    async with entered(runtime) as ready:
        result = await ready.predict({"text": "x"})
    assert result["status"] == "succeeded"
    assert sum(counts.phases["output_upload"].counts) == 1
    assert counts.phases["output_upload"].sum > 0


async def test_failed_and_setup_failed_are_counted() -> None:
    runtime, counts = counting(load("predict_fails").Sync)
    async with entered(runtime) as ready:
        assert (await ready.predict({}))["status"] == "failed"
    assert counts.predictions == {("failed", "predict", "sync"): 1}
    assert counts.setup_status == "succeeded"
    runtime, counts = counting(load("setup_fails").Predictor)
    async with entered(runtime):
        pass
    assert counts.setup_status == "failed"
    assert counts.setup_seconds is not None


async def test_page_renders_what_was_counted_before_the_first_scrape() -> None:
    runtime = Runtime(load("echo_sync").Predictor)
    page = observe(runtime, metrics=True)
    assert page is not None
    async with entered(runtime) as ready:
        await ready.predict({})
        await ready.predict({})
    parsed = Page((await page.render()).decode())
    assert parsed.value("cogrt_predictions_total", status="succeeded") == 2
    assert parsed.value("cogrt_setup_status", status="succeeded") == 1


async def test_gauges_are_read_at_scrape_time() -> None:
    slots = [1]
    page = MetricsPage(PredictionMetrics(), Gauges(lambda: slots[0], lambda: 7))
    slots[0] = 4
    parsed = Page((await page.render()).decode())
    assert parsed.value("cogrt_slots") == 4
    assert parsed.value("cogrt_queue_length") == 7
    assert "cogrt_sse_subscribers" not in parsed.families  # no HTTP shell, no SSE


LAZY = """
import asyncio, sys
from tests.support.harness import served

async def main():
    async with served("tests/http/predictors/http_echo.py:Predictor") as (client, app):
        await client.post("/predictions", json={"input": {}})
        print("prometheus before scrape", "prometheus_client" in sys.modules)
        assert (await client.get("/metrics")).status_code == 200
        print("prometheus after scrape", "prometheus_client" in sys.modules)
        print("opentelemetry", any(m.startswith("opentelemetry") for m in sys.modules))

asyncio.run(main())
"""


def test_prometheus_loads_at_the_first_scrape_and_opentelemetry_never() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    result = subprocess.run(
        [sys.executable, "-c", LAZY], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "prometheus before scrape False",
        "prometheus after scrape True",
        "opentelemetry False",
    ]
