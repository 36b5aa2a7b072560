"""``cogrt.queue``: submit work to ``python -m cogrt worker`` and read its answers.

Needs the ``redis`` extra (``pip install 'cogrt[redis]'``); imports no part of
the runtime, so a web app that enqueues predictions stays light.
"""

from __future__ import annotations

from cogrt.queue.client import cancel, events, result, submit
from cogrt.queue.message import QueueEvent

__all__ = ["QueueEvent", "cancel", "events", "result", "submit"]
