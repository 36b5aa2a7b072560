"""``cogrt.worker``: the Redis Streams queue worker, a second transport over ``Runtime``.

``python -m cogrt worker`` runs it; ``run_worker`` and ``QueueWorker`` embed
it. ``docs/queue.md`` describes the messages and the guarantees.
"""

from __future__ import annotations

from cogrt.worker.api import run_worker
from cogrt.worker.options import WorkerOptions
from cogrt.worker.service import QueueWorker

__all__ = ["QueueWorker", "WorkerOptions", "run_worker"]
