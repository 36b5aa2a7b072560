"""Options -> plan, and the arrival schedules of open-loop load."""

from __future__ import annotations

import itertools
import statistics

import pytest

from cogrt.bench.plan import build_plan, parse_duration, parse_levels
from cogrt.bench.schedule import arrivals
from cogrt.errors import BenchError

DEFAULTS = dict(
    concurrency=None,
    rate=None,
    duration=None,
    requests=None,
    mode="sync",
    poisson=False,
    timeout=60.0,
    warmup="0",
    max_connections=1024,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10s", 10.0), ("500ms", 0.5), ("2m", 120.0), ("1.5", 1.5), ("1h", 3600.0), (" 3 s ", 3.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0s", "-1s", "ten", "5 parsecs", "1e3"])
def test_bad_durations_say_what_is_expected(text: str) -> None:
    with pytest.raises(BenchError, match="expected a positive time"):
        parse_duration(text)


def test_levels() -> None:
    assert parse_levels("1,8,64", "-c", integer=True) == [1, 8, 64]
    assert parse_levels("0.5,20", "--rate", integer=False) == [0.5, 20.0]
    for bad in ("1,,2", "0", "-3", "1.5", "x"):
        with pytest.raises(BenchError, match="-c"):
            parse_levels(bad, "-c", integer=True)


def test_plan_defaults_to_one_connection_for_ten_seconds() -> None:
    plan = build_plan(**DEFAULTS)
    assert [level.label for level in plan.levels] == ["c=1"]
    assert plan.duration == 10.0 and plan.requests is None and not plan.open_loop


def test_plan_open_loop_and_request_count() -> None:
    plan = build_plan(**{**DEFAULTS, "rate": "10,100", "requests": 50})
    assert plan.open_loop and [level.rate for level in plan.levels] == [10.0, 100.0]
    assert plan.duration is None and plan.requests == 50


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"concurrency": "1", "rate": "5"}, "exclude each other"),
        ({"duration": "1s", "requests": 5}, "exclude each other"),
        ({"requests": 0}, "positive number of predictions"),
        ({"timeout": 0.0}, "--timeout"),
        ({"max_connections": 0}, "--max-connections"),
    ],
)
def test_plan_refuses_contradictions(changes: dict[str, object], message: str) -> None:
    with pytest.raises(BenchError, match=message):
        build_plan(**{**DEFAULTS, **changes})


def test_constant_arrivals_are_exact_multiples() -> None:
    times = list(itertools.islice(arrivals(4.0, poisson=False), 1001))
    assert times[:3] == [0.0, 0.25, 0.5]
    assert times[1000] == 250.0  # k / rate: no accumulated float drift


def test_poisson_arrivals_have_the_mean_gap_and_repeat_with_a_seed() -> None:
    times = list(itertools.islice(arrivals(50.0, poisson=True, seed=3), 20_001))
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert statistics.fmean(gaps) == pytest.approx(1 / 50, rel=0.03)
    assert statistics.stdev(gaps) == pytest.approx(1 / 50, rel=0.05)  # exponential: sd = mean
    assert all(gap >= 0 for gap in gaps)
    again = list(itertools.islice(arrivals(50.0, poisson=True, seed=3), 20_001))
    assert again == times


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        next(arrivals(0.0, poisson=False))


def test_tally_keeps_the_first_refusal_and_counts_every_outcome_apart() -> None:
    from cogrt.bench.outcomes import OUTCOMES, Tally, classify_status

    assert [classify_status(s) for s in (409, 422, 404, 400, 500, 503)] == [
        "409",
        "422",
        "4xx",
        "4xx",
        "5xx",
        "5xx",
    ]
    tally = Tally()
    tally.add("ok", 100)
    tally.add("422", 50, "first")
    tally.add("5xx", 70, "second")
    tally.add("timeout", 0, "late")
    assert tally.first_error == "first"
    assert tally.counts == {**dict.fromkeys(OUTCOMES, 0), "ok": 1, "422": 1, "5xx": 1, "timeout": 1}
    assert tally.latency.count == 1  # successes only
    assert tally.answered.count == 3  # every answer, not the timeout
