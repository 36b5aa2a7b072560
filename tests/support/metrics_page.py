"""Reading ``/metrics`` in tests: the exposition parsed by ``prometheus_client.parser``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

FAMILIES = (
    "cogrt_predictions",
    "cogrt_prediction_phase_seconds",
    "cogrt_slots",
    "cogrt_slots_in_use",
    "cogrt_queue_length",
    "cogrt_setup_status",
    "cogrt_setup_duration_seconds",
    "cogrt_webhooks",
    "cogrt_sse_subscribers",
    "cogrt_requests_refused",
    "process_resident_memory_bytes",
)


class Page:
    """One scrape: ``value(name, **labels)`` is the sample's value, 0.0 if absent."""

    def __init__(self, text: str) -> None:
        self.families = {f.name: f for f in text_string_to_metric_families(text)}

    def value(self, sample: str, **labels: str) -> float:
        for family in self.families.values():
            for found in family.samples:
                if found.name == sample and all(
                    found.labels.get(k) == v for k, v in labels.items()
                ):
                    return float(found.value)
        return 0.0


async def scrape(client: httpx.AsyncClient) -> Page:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Page(response.text)


async def scrape_until(
    client: httpx.AsyncClient, check: Callable[[Page], bool], timeout: float = 10.0
) -> Page:
    """Scrape until ``check`` holds (bounded): for counts made just after a response."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check(page := await scrape(client)):
        assert asyncio.get_running_loop().time() < deadline, "metric never reached"
        await asyncio.sleep(0.01)
    return page
