"""``CachedHeadersConfig``: hypercorn's own response headers, built once a second."""

from __future__ import annotations

import pytest
from hypercorn.config import Config

from cogrt.http import hypercorn_headers
from cogrt.http.hypercorn_headers import CachedHeadersConfig


class Clock:
    """``time.time`` as ``hypercorn_headers`` and ``hypercorn.config`` read it, set by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(1_767_225_600.25)  # 2026-01-01T00:00:00.25Z
    monkeypatch.setattr(hypercorn_headers, "time", clock.time)
    monkeypatch.setattr("hypercorn.config.time", clock.time)
    return clock


def test_the_headers_are_hypercorns_own(clock: Clock) -> None:
    config = CachedHeadersConfig()
    for protocol in ("h11", "h2"):
        assert config.response_headers(protocol) == Config().response_headers(protocol)
    assert config.response_headers("h11") == [
        (b"date", b"Thu, 01 Jan 2026 00:00:00 GMT"),
        (b"server", b"hypercorn-h11"),
    ]


def test_within_a_second_the_date_is_not_formatted_again(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = CachedHeadersConfig()
    first = config.response_headers("h11")
    formatted: list[float] = []

    def format_date_time(now: float) -> str:
        formatted.append(now)
        return "changed"

    monkeypatch.setattr("hypercorn.config.format_date_time", format_date_time)
    clock.now += 0.7  # still 00:00:00
    assert config.response_headers("h11") == first
    assert formatted == []
    clock.now += 0.1  # 00:00:01
    assert config.response_headers("h11")[0] == (b"date", b"changed")
    assert formatted == [clock.now]


def test_each_caller_gets_its_own_list(clock: Clock) -> None:
    config = CachedHeadersConfig()
    headers = config.response_headers("h11")
    headers.append((b"connection", b"close"))  # as hypercorn's h11 protocol may do
    assert config.response_headers("h11") == Config().response_headers("h11")
