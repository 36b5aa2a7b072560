"""The command's options turned into a checked plan: levels, durations, mode.

Pure parsing, so every rule is a plain function test and a bad option is a
``BenchError`` before anything starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from cogrt.errors import BenchError

__all__ = ["Level", "Plan", "parse_duration", "parse_levels"]

Mode = Literal["sync", "async", "sse"]
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "": 1.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|)\s*$")


def parse_duration(text: str) -> float:
    """``10s``, ``500ms``, ``2m``, ``1.5`` (seconds) -> seconds."""
    match = _DURATION.match(text)
    if match is None or float(match[1]) <= 0:
        raise BenchError(f"--duration {text!r}: expected a positive time such as 10s, 500ms, 2m")
    return float(match[1]) * _UNITS[match[2]]


def parse_levels(text: str, option: str, *, integer: bool) -> list[float]:
    """``1,8,64`` -> [1, 8, 64]: positive numbers, in the order given."""
    levels: list[float] = []
    for part in text.split(","):
        try:
            value = int(part) if integer else float(part)
        except ValueError:
            value = 0
        if value <= 0:
            kind = "positive integers" if integer else "positive numbers"
            raise BenchError(f"{option} {text!r}: expected {kind} separated by commas")
        levels.append(value)
    return levels


@dataclass(frozen=True)
class Level:
    """One step of a sweep: ``concurrency`` connections in a closed loop, or ``rate``/s open."""

    concurrency: int | None = None
    rate: float | None = None

    @property
    def label(self) -> str:
        if self.rate is not None:
            return f"{self.rate:g}/s"
        return f"c={self.concurrency}"


@dataclass(frozen=True)
class Plan:
    """Everything that shapes the load, independent of the target."""

    levels: list[Level]
    duration: float | None  # seconds per level, or None when ``requests`` bounds it
    requests: int | None
    mode: Mode
    poisson: bool
    timeout: float
    warmup: float
    max_connections: int

    @property
    def open_loop(self) -> bool:
        return self.levels[0].rate is not None


def build_plan(
    *,
    concurrency: str | None,
    rate: str | None,
    duration: str | None,
    requests: int | None,
    mode: Mode,
    poisson: bool,
    timeout: float,
    warmup: str,
    max_connections: int,
) -> Plan:
    if concurrency is not None and rate is not None:
        raise BenchError("-c and --rate exclude each other: a closed loop or an open one")
    if duration is not None and requests is not None:
        raise BenchError("--duration and -n exclude each other")
    if requests is not None and requests <= 0:
        raise BenchError(f"-n {requests}: expected a positive number of predictions")
    if timeout <= 0:
        raise BenchError(f"--timeout {timeout}: expected a positive number of seconds")
    if max_connections <= 0:
        raise BenchError(f"--max-connections {max_connections}: expected a positive number")
    if rate is not None:
        levels = [Level(rate=r) for r in parse_levels(rate, "--rate", integer=False)]
    else:
        counts = parse_levels(concurrency or "1", "-c", integer=True)
        levels = [Level(concurrency=int(c)) for c in counts]
    seconds = None if requests is not None else parse_duration(duration or "10s")
    warm = 0.0 if warmup.strip() in ("0", "0s") else parse_duration(warmup)
    return Plan(levels, seconds, requests, mode, poisson, timeout, warm, max_connections)
