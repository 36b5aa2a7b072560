"""What the webhook sender reports of its deliveries, for metrics and tracing.

Transfer sits below the runner and knows nothing of Prometheus or
OpenTelemetry: it calls this no-op base, and ``runner.observe.Observer``
(which extends it) is what the runtime hands its sender.
"""

from __future__ import annotations

from typing import Literal

from cogrt.transfer.record import PredictionRecord

__all__ = ["Attempt", "WebhookObserver"]

Attempt = Literal["delivered", "retry", "failed"]
"""One POST's outcome: a 2xx; worth a retry (connection, 429, 5xx); failed for good."""


class WebhookObserver:
    """Told of every webhook delivery; every method is a no-op here."""

    def webhook_sent(
        self,
        prediction_id: str,
        record: PredictionRecord | None,
        terminal: bool,
        delivered: bool,
        began: float,
        ended: float,
    ) -> None:
        """One intermediate POST, or a terminal payload with all its retries, has ended.

        ``record`` is None for the prediction of a crashed runtime (the
        journal's); ``began`` and ``ended`` are ``time.perf_counter()`` seconds.
        """
