"""What one level of load produced: outcomes counted apart, latencies in histograms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cogrt.bench.histogram import Histogram

__all__ = ["OUTCOMES", "Tally", "classify_status"]

OUTCOMES = ("ok", "409", "422", "4xx", "5xx", "failed", "canceled", "timeout", "error")
"""``ok`` is a succeeded prediction; every other outcome is counted apart:
HTTP refusals (409 busy, 422 invalid input, other 4xx, 5xx), predictions that
ran and ``failed`` or were ``canceled``, the client's ``timeout``, and
connection ``error``s."""


def classify_status(status: int) -> str:
    """The outcome of an HTTP status that is not a prediction's answer."""
    if status == 409:
        return "409"
    if status == 422:
        return "422"
    if status >= 500:
        return "5xx"
    return "4xx"


@dataclass
class Tally:
    """Counts and histograms of one level (latencies in microseconds)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    latency: Histogram = field(default_factory=Histogram)
    """Latency of succeeded predictions, from the intended start to the answer."""
    answered: Histogram = field(default_factory=Histogram)
    """Latency of every answer, refusals included (what wrk reports), not timeouts or errors."""
    ttft: Histogram = field(default_factory=Histogram)
    """Time to first output chunk of streamed predictions."""
    stream_rate: Histogram = field(default_factory=Histogram)
    """Per stream: chunks per second after the first chunk."""
    tokens: int = 0
    first_error: str | None = None
    in_window: dict[str, int] | None = None
    """The counts when a timed level's sending window closed: its rates count only these
    (answers still on their way then are awaited and recorded, but come after it)."""

    def close_window(self) -> None:
        self.in_window = dict(self.counts)

    def add(self, outcome: str, latency_us: int, detail: str | None = None) -> None:
        self.counts[outcome] += 1
        if outcome == "ok":
            self.latency.record(latency_us)
        if outcome not in ("timeout", "error"):
            self.answered.record(latency_us)
        if outcome != "ok" and detail is not None and self.first_error is None:
            self.first_error = detail

    def add_stream(self, ttft_us: int | None, chunks: int, last_minus_first_s: float) -> None:
        self.tokens += chunks
        if ttft_us is not None:
            self.ttft.record(ttft_us)
        if chunks > 1 and last_minus_first_s > 0:
            self.stream_rate.record(round((chunks - 1) / last_minus_first_s))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "latency_us": self.latency.to_json(),
            "answered_latency_us": self.answered.to_json(),
            "ttft_us": self.ttft.to_json(),
            "stream_tokens_per_s": self.stream_rate.to_json(),
            "tokens": self.tokens,
            "first_error": self.first_error,
        }
