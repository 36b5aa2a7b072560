"""Outgoing clients share one TLS context, built off the loop after setup."""

from __future__ import annotations

import ssl

from cogrt.transfer import http_client
from tests.support.harness import running
from tests.support.predictors import RUNNER

load = RUNNER.load


async def test_runtime_builds_the_tls_context_after_setup() -> None:
    http_client.tls_context.cache_clear()
    async with running(load("echo_sync").Predictor):
        pass  # leaving waits for the warm-up task
    assert http_client.tls_context.cache_info().currsize == 1


async def test_clients_share_the_context() -> None:
    await http_client.warm_up()
    context = http_client.tls_context()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    hits = http_client.tls_context.cache_info().hits
    async with http_client.new_client(timeout=1.0), http_client.new_client(timeout=1.0):
        pass
    assert http_client.tls_context.cache_info().hits == hits + 2
