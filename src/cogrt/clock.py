"""Cog's timestamps: every layer stamps records in the one format clients parse (spec §12.2).

The prediction record, the crash journal and the access log all write
``created_at``-style times, so the format lives below all of them.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

__all__ = ["utc_now"]

_second_text: tuple[int, str] = (-1, "")


def utc_now() -> str:
    """RFC 3339 UTC timestamp with microseconds and an explicit offset (spec §12.2).

    Same text as ``datetime.now(timezone.utc).isoformat()``; the part up to
    the second is formatted once per second, since every prediction stamps
    three times.
    """
    global _second_text
    now_us = time.time_ns() // 1000
    second, micros = divmod(now_us, 1_000_000)
    cached_second, text = _second_text
    if cached_second != second:
        text = datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        _second_text = (second, text)
    return f"{text}.{micros:06d}+00:00"
