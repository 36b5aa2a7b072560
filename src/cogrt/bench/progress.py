"""The live line while a level runs: elapsed time, successes per second, other outcomes.

Rewritten in place (``\\r``) twice a second on a terminal; on a pipe or file
only the final state of each level is written, one line each, so logs stay
readable.
"""

from __future__ import annotations

import asyncio
import time
from typing import TextIO

from cogrt.bench.outcomes import OUTCOMES, Tally

__all__ = ["Progress"]


class Progress:
    def __init__(self, stream: TextIO, label: str, tally: Tally, quiet: bool = False) -> None:
        self._stream = stream
        self._label = label
        self._tally = tally
        self._quiet = quiet
        self._live = not quiet and stream.isatty()
        self._started = time.perf_counter()
        self._task: asyncio.Task[None] | None = None

    def line(self) -> str:
        elapsed = time.perf_counter() - self._started
        counts = self._tally.counts
        others = "  ".join(f"{o} {counts[o]}" for o in OUTCOMES[1:] if counts[o])
        rate = counts["ok"] / elapsed if elapsed > 0 else 0.0
        return f"{self._label}: {elapsed:5.1f} s  ok {counts['ok']} ({rate:.1f}/s)  {others}"

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            self._stream.write("\r\x1b[K" + self.line())
            self._stream.flush()

    def __enter__(self) -> Progress:
        self._started = time.perf_counter()
        if self._live:
            self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._task is not None:
            self._task.cancel()
        if not self._quiet:
            self._stream.write(("\r\x1b[K" if self._live else "") + self.line() + "\n")
            self._stream.flush()
