"""A latency histogram with HDR's guarantees: fixed relative error, O(1) record, mergeable.

Why not the ``hdrhistogram`` package: its ``record_value`` is plain Python doing
more work per value than this (a dozen attribute lookups and a bounds check),
it brings a C codec the command never uses, and the layout it implements fits
in the few lines below. The layout is HDR's log-linear one: values below
``2 * SUB`` get a bucket each; above, every power of two is split into ``SUB``
equal buckets, so a bucket is never wider than ``1/SUB`` of its values
(``SUB = 256``: 0.4 %, better than HDR's "2 significant digits"). Values are
integers (the command records microseconds); an hour is ~6,400 buckets.

Percentiles follow HDR's convention: the highest value equivalent to the bucket
the rank falls in (never below a recorded value), capped at the true maximum.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["Histogram"]

SUB_BITS = 8
SUB = 1 << SUB_BITS  # buckets per power of two


def bucket_of(value: int) -> int:
    """The bucket index of a non-negative integer."""
    shift = value.bit_length() - SUB_BITS - 1
    if shift <= 0:
        return value
    return (shift << SUB_BITS) + (value >> shift)


def bucket_bounds(index: int) -> tuple[int, int]:
    """The lowest and highest value of bucket ``index`` (both inclusive)."""
    shift = max(0, (index >> SUB_BITS) - 1)
    top = index - (shift << SUB_BITS)
    return top << shift, ((top + 1) << shift) - 1


class Histogram:
    """Counts of non-negative integers (microseconds, tokens/s x 1000, ...)."""

    __slots__ = ("_counts", "count", "max", "min", "total")

    def __init__(self) -> None:
        self._counts: list[int] = []
        self.count = 0
        self.total = 0
        self.min = 0
        self.max = 0

    def record(self, value: int) -> None:
        if value < 0:
            value = 0
        shift = value.bit_length() - SUB_BITS - 1  # bucket_of(), inlined: a hot path
        index = value if shift <= 0 else (shift << SUB_BITS) + (value >> shift)
        counts = self._counts
        if index >= len(counts):
            counts.extend([0] * (index + 1 - len(counts)))
        counts[index] += 1
        if value > self.max:
            self.max = value
        if value < self.min or not self.count:
            self.min = value
        self.count += 1
        self.total += value

    def merge(self, other: Histogram) -> None:
        """Add ``other``'s counts to this one (for per-worker histograms)."""
        if other.count == 0:
            return
        if len(other._counts) > len(self._counts):
            self._counts.extend([0] * (len(other._counts) - len(self._counts)))
        for index, n in enumerate(other._counts):
            if n:
                self._counts[index] += n
        self.min = other.min if self.count == 0 else min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.count += other.count
        self.total += other.total

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def percentile(self, percent: float) -> int:
        """The value at ``percent`` (0-100); 0 for an empty histogram."""
        if self.count == 0:
            return 0
        rank = max(1, -(-self.count * percent // 100))  # ceil, at least the first value
        seen = 0
        for index, n in enumerate(self._counts):
            seen += n
            if seen >= rank:
                return min(bucket_bounds(index)[1], self.max)
        return self.max

    def buckets(self) -> Iterator[tuple[int, int]]:
        """``(lowest value, count)`` of every non-empty bucket, in order."""
        for index, n in enumerate(self._counts):
            if n:
                yield bucket_bounds(index)[0], n

    def to_json(self) -> dict[str, Any]:
        """A sparse, lossless form: a report can be re-read and merged later."""
        return {
            "count": self.count,
            "min": self.min,
            "max": self.max,
            "total": self.total,
            "buckets": [[low, n] for low, n in self.buckets()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Histogram:
        histogram = cls()
        for low, n in data["buckets"]:
            index = bucket_of(int(low))
            if index >= len(histogram._counts):
                histogram._counts.extend([0] * (index + 1 - len(histogram._counts)))
            histogram._counts[index] += int(n)
        histogram.count = int(data["count"])
        histogram.min = int(data["min"])
        histogram.max = int(data["max"])
        histogram.total = int(data["total"])
        return histogram
