"""When an open-loop test means each request to start: pure arithmetic, no clock.

An open-loop test sends at a rate, whether or not earlier requests have been
answered (as real traffic arrives), and measures each latency from the moment
the request was *meant* to start. A generator that waited for a slow answer
before sending the next request would hide the queueing a slow server causes
("coordinated omission"); measuring from the intended start counts it.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

__all__ = ["arrivals"]


def arrivals(rate: float, *, poisson: bool, seed: int | None = None) -> Iterator[float]:
    """Intended start times in seconds from the start of the level, increasing without end.

    Constant: one every ``1/rate`` seconds, computed as ``k / rate`` (no float
    drift over long runs). Poisson: exponential gaps of mean ``1/rate``, the
    arrivals of independent clients; ``seed`` makes a run repeatable.
    """
    if rate <= 0:
        raise ValueError(f"rate must be positive, got {rate}")
    if not poisson:
        k = 0
        while True:
            yield k / rate
            k += 1
    rng = random.Random(seed)
    at = 0.0
    while True:
        yield at
        at += rng.expovariate(rate)
