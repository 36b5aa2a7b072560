"""Queue worker fixtures: the session's real Redis, a client, a fresh stream, worker processes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as aioredis

from tests.support.redis_server import RedisServer, redis_server
from tests.support.worker_process import Workers, workers

__all__ = ["redis_server"]


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server.url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def stream() -> str:
    return f"jobs-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def pool(redis_server: RedisServer, stream: str) -> Iterator[Workers]:
    with workers(redis_server.url, stream) as started:
        yield started
