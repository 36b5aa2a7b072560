"""The worker's Redis client, and the one rule for riding out a lost connection.

redis-py's pool drops a broken connection and dials again on the next
command, so a lost Redis needs no reconnect code, only patience: every loop
that talks to Redis catches ``OUTAGE`` and waits in a ``Backoff``, which logs
the outage once and its end once (not every retry).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from cogrt.errors import ConfigError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["OUTAGE", "Backoff", "connect"]

log = logging.getLogger("cogrt.worker")

try:
    from redis.exceptions import ConnectionError as _RedisConnectionError
    from redis.exceptions import TimeoutError as _RedisTimeoutError

    OUTAGE: tuple[type[BaseException], ...] = (
        _RedisConnectionError,  # BusyLoadingError (a restarted Redis replaying its AOF) too
        _RedisTimeoutError,
        ConnectionError,
        OSError,
    )
except ImportError:  # pragma: no cover - connect() explains
    OUTAGE = (ConnectionError, OSError)


def connect(url: str) -> Redis:
    """A client for ``url``; a missing redis-py is a ``ConfigError`` naming the extra."""
    try:
        from redis.asyncio import Redis
    except ImportError as exc:
        raise ConfigError("the queue worker needs redis-py: pip install 'cogrt[redis]'") from exc
    # No socket timeout: a blocking XREADGROUP legitimately waits; a dead server
    # is noticed by the connection closing, and keep-alive covers a silent one.
    # Explicit, since redis-py 8 defaults to 5 s, and a timeout costs an asyncio
    # timeout context per reply read (~5 % of a worker's CPU per prediction).
    client = Redis.from_url(
        url,
        socket_timeout=None,
        socket_connect_timeout=5.0,
        socket_keepalive=True,
        health_check_interval=30,
    )
    _pack_with_hiredis(client)
    return client


def _pack_with_hiredis(client: Redis) -> None:
    """Encode commands with hiredis (C) instead of redis-py's Python encoder.

    redis-py's asyncio connections parse replies with hiredis but still build
    every command in Python: ~23 us for the worker's result script, ~3 us in
    hiredis, and packing was the largest single cost per prediction. Only the
    pool's connection class changes (a TLS connection class is subclassed alike).
    """
    try:
        import hiredis
    except ImportError:  # the `redis` extra installs it; plain redis-py still works
        return
    pack = hiredis.pack_command
    pool = client.connection_pool
    base = pool.connection_class

    def pack_command(self: Any, *args: Any) -> list[bytes]:
        first = args[0]
        if isinstance(first, str) and " " in first:  # "XGROUP CREATE": one word per argument
            args = (*first.split(), *args[1:])
        return [pack(args)]

    pool.connection_class = type(f"Hiredis{base.__name__}", (base,), {"pack_command": pack_command})


class Backoff:
    """Delays after failures: 0.1 s doubling to ``cap``; reset by the first success."""

    def __init__(self, what: str, *, first: float = 0.1, cap: float = 5.0) -> None:
        self._what = what
        self._first = first
        self._cap = cap
        self._delay = 0.0
        self._failures = 0

    async def failed(self, exc: BaseException) -> None:
        """Log (the first failure of an outage at warning level) and wait."""
        self._failures += 1
        self._delay = min(self._cap, self._delay * 2 if self._delay else self._first)
        if self._failures == 1:
            log.warning("%s: Redis unreachable (%s); retrying with backoff", self._what, exc)
        else:
            log.debug("%s: retry %d failed (%s)", self._what, self._failures, exc)
        await asyncio.sleep(self._delay)

    def succeeded(self) -> None:
        if self._failures:
            log.info("%s: Redis reachable again after %d retries", self._what, self._failures)
        self._failures = 0
        self._delay = 0.0
