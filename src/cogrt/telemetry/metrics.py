"""What ``/metrics`` reports, counted as plain numbers on the event loop.

The observer's methods run on the loop thread (``runner/observe.py``), so
the counts need no locks and cost a few dictionary and list updates per
prediction; nothing of Prometheus is imported here. ``exposition`` turns
them into metric families when a scraper asks.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING

from cogrt.runner.observe import Observer, Refusal
from cogrt.transfer.observer import WebhookSent

if TYPE_CHECKING:
    from cogrt.runner.prediction import Prediction

__all__ = ["DURATION_BUCKETS", "PHASES", "REFUSALS", "Histogram", "PredictionMetrics"]

DURATION_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
)  # fmt: skip
"""Upper bounds in seconds: an echo's sub-millisecond phases to a ten-minute generation."""
PHASES = ("queue_wait", "input_download", "predict", "output_upload")
REFUSALS: tuple[Refusal, ...] = (
    "at_capacity",
    "not_ready",
    "shutting_down",
    "too_large",
    "invalid",
    "too_many_subscribers",
)
"""Reasons counted from zero, so a rate over them exists before the first refusal."""


class Histogram:
    """Counts per bucket (the last one is ``+Inf``) and their sum; not cumulative."""

    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(DURATION_BUCKETS) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(DURATION_BUCKETS, value)] += 1
        self.sum += value


class PredictionMetrics(Observer):
    """The runtime's observer for ``/metrics``: counts what it is told, nothing more."""

    def __init__(self) -> None:
        self.predictions: dict[tuple[str, str, str], int] = {}
        """Terminal predictions by (status, mode, delivery)."""
        self.phases = {phase: Histogram() for phase in PHASES}
        self._queue_wait, self._download, self._predict, self._upload = self.phases.values()
        self.in_flight = 0
        self.setup_status = "starting"
        self.setup_seconds: float | None = None
        self.webhooks = {
            (kind, result): 0
            for kind in ("intermediate", "terminal")
            for result in ("delivered", "failed")
        }
        self.refusals: dict[str, int] = dict.fromkeys(REFUSALS, 0)

    def setup_finished(self, succeeded: bool, began: float, ended: float) -> None:
        self.setup_status = "succeeded" if succeeded else "failed"
        self.setup_seconds = ended - began

    def prediction_created(self, prediction: Prediction, trace_headers: object) -> None:
        self.in_flight += 1

    def prediction_finished(self, prediction: Prediction) -> None:
        self.in_flight -= 1
        mode = "train" if prediction.training else "predict"
        key = (prediction.status, mode, prediction.created_by)
        self.predictions[key] = self.predictions.get(key, 0) + 1
        self._queue_wait.observe(prediction.queue_wait)
        ran = prediction.run_perf
        if ran is None:  # canceled before it ran
            return
        end = prediction.finished_perf or ran
        predict = prediction.predict_perf
        upload = prediction.upload_perf
        if prediction.download_perf is not None:
            self._download.observe((predict or end) - prediction.download_perf)
        if predict is not None:
            self._predict.observe((upload or end) - predict)
        if upload is not None:
            self._upload.observe(end - upload)

    def refused(self, reason: Refusal) -> None:
        self.refusals[reason] = self.refusals.get(reason, 0) + 1

    def webhook_sent(self, sent: WebhookSent) -> None:
        key = (
            "terminal" if sent.terminal else "intermediate",
            "delivered" if sent.delivered else "failed",
        )
        self.webhooks[key] += 1
