"""What the webhook sender reports of its deliveries, for metrics and tracing.

Transfer sits below the runner and knows nothing of Prometheus or
OpenTelemetry: it calls this no-op base, and ``runner.observe.Observer``
(which extends it) is what the runtime hands its sender.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from cogrt.transfer.record import PredictionRecord

__all__ = ["Attempt", "WebhookObserver", "WebhookSent"]

Attempt = Literal["delivered", "retry", "failed"]
"""One POST's outcome: a 2xx; worth a retry (connection, 429, 5xx); failed for good."""


class WebhookSent(msgspec.Struct, frozen=True):
    """One intermediate POST, or a terminal payload with all its retries, that has ended.

    ``record`` is None for the prediction of a crashed runtime (the journal's);
    ``began`` and ``ended`` are ``time.perf_counter()`` seconds.
    """

    prediction_id: str
    record: PredictionRecord | None
    terminal: bool
    delivered: bool
    began: float
    ended: float


class WebhookObserver:
    """Told of every webhook delivery; every method is a no-op here."""

    def webhook_sent(self, sent: WebhookSent) -> None:
        """A delivery has ended, delivered or not."""
