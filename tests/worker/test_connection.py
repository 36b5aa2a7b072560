"""The worker's Redis client (``cogrt.worker.connection``)."""

from __future__ import annotations

from cogrt.worker.connection import connect


async def test_the_client_has_no_read_timeout_whatever_redis_py_defaults_to() -> None:
    """A blocking read waits as long as it asks to; redis-py 8 would cut reads at 5 s."""
    client = connect("redis://127.0.0.1:6379/0")  # no connection is made until a command
    try:
        kwargs = client.connection_pool.connection_kwargs
        assert kwargs["socket_timeout"] is None
        assert kwargs["socket_connect_timeout"] == 5.0
    finally:
        await client.aclose()
