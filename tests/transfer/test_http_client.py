"""Outgoing clients share one TLS context, built off the loop after setup."""

from __future__ import annotations

import ssl

import pytest

from cogrt.transfer import http_client
from tests.support.harness import running
from tests.support.predictors import RUNNER

load = RUNNER.load


@pytest.mark.parametrize(
    ("model", "options", "warmed"),
    [
        ("path_in", {}, True),  # its inputs are downloaded
        ("echo_sync", {"upload_url": "http://127.0.0.1:9/upload/"}, True),  # outputs uploaded
        ("echo_sync", {}, False),  # no file ever crosses the network: httpx stays unloaded
    ],
    ids=["file-inputs", "upload-url", "no-files"],
)
async def test_the_tls_context_is_built_after_setup_when_files_will_travel(
    model: str, options: dict[str, str], warmed: bool
) -> None:
    http_client.tls_context.cache_clear()
    async with running(load(model).Predictor, **options):
        pass  # leaving waits for the warm-up task
    assert http_client.tls_context.cache_info().currsize == int(warmed)


async def test_clients_share_the_context() -> None:
    await http_client.warm_up()
    context = http_client.tls_context()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    hits = http_client.tls_context.cache_info().hits
    async with http_client.new_client(timeout=1.0), http_client.new_client(timeout=1.0):
        pass
    assert http_client.tls_context.cache_info().hits == hits + 2
