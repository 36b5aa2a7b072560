"""What one queue worker is told: where to read, who it is, when to give up on a message."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field

__all__ = ["WorkerOptions", "default_consumer"]


def default_consumer() -> str:
    """``host-pid-random``: unique per process, so two workers never share a pending list."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class WorkerOptions:
    """The ``python -m cogrt worker`` flags, as the embeddable API takes them."""

    redis_url: str
    stream: str
    group: str = "cogrt"
    consumer: str = field(default_factory=default_consumer)
    claim_after: float = 60.0
    """Seconds a message may stay pending with a silent consumer before another takes it.
    A live worker refreshes its own messages every third of this, however long they run."""
    max_deliveries: int = 5
    """More deliveries than this and the message goes to ``<stream>:dead``."""
    port: int | None = None
    """``/health-check`` on this port (all interfaces), for Kubernetes probes."""
    host: str = "0.0.0.0"
    metrics: bool = True
    """``GET /metrics`` on ``port`` too (unless ``COGRT_METRICS=0``)."""
    result_ttl: float = 24 * 3600.0
    """How long results, response streams and leases live in Redis (seconds)."""
    events_maxlen: int = 1000
    """Each response stream keeps about this many events (``MAXLEN ~``)."""
    grace_period: float = 25.0
    """After SIGTERM, in-flight predictions get this long; the rest stay pending for others."""
    upload_url: str | None = None
    block_ms: int = 1000
    """How long one read waits for new messages; a stop request waits at most this long."""

    @property
    def refresh_every(self) -> float:
        return max(self.claim_after / 3.0, 0.05)
