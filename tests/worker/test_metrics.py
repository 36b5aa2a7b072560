"""``GET /metrics`` on the worker's health port: queued predictions counted, off on request."""

from __future__ import annotations

import httpx
import redis.asyncio as aioredis

import cogrt.queue
from tests.support.metrics_page import Page
from tests.support.worker_process import Workers


async def test_health_port_serves_metrics(redis: aioredis.Redis, stream: str, pool: Workers):
    worker = pool.start("--port", "0", "--host", "127.0.0.1", ref="models.py:Stream")
    pid = await cogrt.queue.submit(redis, stream, {"count": 2})
    [e async for e in cogrt.queue.events(redis, pid, timeout=30)]
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{worker.health_port()}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    page = Page(response.text)
    queued = {"status": "succeeded", "mode": "predict", "delivery": "async"}
    assert page.value("cogrt_predictions_total", **queued) == 1
    assert page.value("cogrt_setup_status", status="succeeded") == 1
    assert page.value("cogrt_prediction_phase_seconds_count", phase="predict") == 1


async def test_no_metrics_flag(redis: aioredis.Redis, stream: str, pool: Workers):
    worker = pool.start("--port", "0", "--host", "127.0.0.1", "--no-metrics")
    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://127.0.0.1:{worker.health_port()}/metrics")
    assert response.status_code == 404
