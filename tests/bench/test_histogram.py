"""The histogram's maths: bucket layout, bounded error, percentiles, merge, JSON."""

from __future__ import annotations

import random

import pytest

from cogrt.bench.histogram import SUB, Histogram, bucket_bounds, bucket_of


def test_every_value_falls_in_its_bucket_and_buckets_are_ordered() -> None:
    previous = -1
    for value in [*range(5000), *range(5000, 1 << 24, 997), (1 << 40) + 12345]:
        index = bucket_of(value)
        low, high = bucket_bounds(index)
        assert low <= value <= high
        assert index >= previous
        previous = index


def test_bucket_width_is_within_the_relative_error() -> None:
    for value in range(0, 1 << 22, 4099):
        low, high = bucket_bounds(bucket_of(value))
        assert high - low + 1 <= max(1, low / SUB)


def test_small_values_are_exact() -> None:
    histogram = Histogram()
    for value in (1, 2, 3, 3, 500):
        histogram.record(value)
    assert histogram.percentile(50) == 3
    assert histogram.percentile(0) == 1
    assert histogram.percentile(100) == 500
    assert (histogram.min, histogram.max, histogram.count) == (1, 500, 5)
    assert histogram.mean == pytest.approx(509 / 5)


def test_percentiles_of_a_known_distribution() -> None:
    histogram = Histogram()
    for value in range(1, 100_001):
        histogram.record(value)
    for percent, exact in ((50, 50_000), (90, 90_000), (99, 99_000), (99.9, 99_900)):
        assert histogram.percentile(percent) == pytest.approx(exact, rel=1 / SUB)
        assert histogram.percentile(percent) >= exact  # HDR: the bucket's highest value
    assert histogram.percentile(100) == 100_000


def test_percentile_never_exceeds_the_maximum() -> None:
    histogram = Histogram()
    histogram.record(1_000_003)
    assert histogram.percentile(50) == 1_000_003


def test_empty_and_negative() -> None:
    histogram = Histogram()
    assert histogram.percentile(99) == 0
    assert histogram.mean == 0.0
    histogram.record(-5)
    assert histogram.max == 0 and histogram.count == 1


def test_merge_equals_recording_everything_in_one() -> None:
    rng = random.Random(7)
    values = [int(rng.lognormvariate(8, 1.5)) for _ in range(5000)]
    whole, left, right = Histogram(), Histogram(), Histogram()
    for i, value in enumerate(values):
        whole.record(value)
        (left if i % 3 else right).record(value)
    left.merge(right)
    left.merge(Histogram())
    assert left.to_json() == whole.to_json()
    for percent in (50, 90, 99, 99.9):
        assert left.percentile(percent) == whole.percentile(percent)


def test_json_round_trip_is_lossless() -> None:
    histogram = Histogram()
    for value in (0, 7, 900, 12_345, 9_999_999):
        histogram.record(value)
    again = Histogram.from_json(histogram.to_json())
    assert again.to_json() == histogram.to_json()
    assert again.percentile(60) == histogram.percentile(60)
