"""File-output figures that the tests check only functionally: time and loop stalls.

Two questions, on this machine, in-process (a ``Runtime`` on uvloop, as in
the test suite):

* ``upload_50mib``: a sync prediction that writes 50 MiB and returns the
  path, with an upload URL, so the file is PUT to a loopback sink on the same
  loop. Cog's harness gives a whole sync request 10 s. ``upload_50mib_cold``
  is the same as the first upload of a fresh runtime, which also makes its
  HTTP client.
* ``data_uri_48mib_sync`` / ``data_uri_48mib_async``: a 48 MiB file output
  turned into a data URI (base64, off the loop, block by block).

For each, the wall time of ``Runtime.predict`` and the longest gap between
the turns of a loop task that asks to wake every 1 ms (so a gap near 1 ms
means the loop never waited). The tests assert the bytes and that the loop
keeps turning, never a figure; this script reports the figures.

    python benchmarks/files_io.py
    python benchmarks/files_io.py --runs 9 --json files_io.json

Every wait has a deadline; the sink listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path as FsPath
from typing import Any

import uvloop

from cog import BasePredictor, Path
from cogrt.config import Settings
from cogrt.runner.runtime import Runtime

MIB = 1024 * 1024
DEADLINE = 60.0
"""Seconds one prediction may take before the run is abandoned."""


class WriteFifty(BasePredictor):
    """Writes ``mib`` MiB into ``OUT_DIR`` and returns the path (uploaded by cogrt)."""

    OUT_DIR = ""

    def predict(self, mib: int = 50) -> Path:
        out = Path(self.OUT_DIR) / "big.bin"
        block = bytes(range(256)) * 4096
        with open(out, "wb") as handle:
            for _ in range(mib):
                handle.write(block)
        return out


class ReturnPath(BasePredictor):
    """Returns the prepared file as a path; cogrt encodes it on the worker thread."""

    SOURCE = ""

    def predict(self) -> Path:
        return Path(self.SOURCE)


class ReturnHandle(BasePredictor):
    """Returns the prepared file open (async); cogrt encodes it in a thread."""

    SOURCE = ""

    async def predict(self) -> Path:
        return await asyncio.to_thread(open, self.SOURCE, "rb")  # cogrt reads and closes it


class Sink:
    """A loopback HTTP/1.1 PUT receiver: reads each body to the end, answers 200."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self._server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> Sink:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/upload/"
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await asyncio.wait_for(self._one(reader, writer), DEADLINE):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        if not await reader.readline():
            return False
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        left = length
        while left:
            left -= len(await reader.readexactly(min(left, MIB)))
        self.received.append(length)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()
        return True


async def longest_gap(stop: asyncio.Event) -> float:
    """Seconds of the longest gap between turns of a task asking to wake every 1 ms."""
    longest = 0.0
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.001)
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
    return longest


async def measure(runtime: Runtime, inputs: dict[str, Any]) -> tuple[float, float]:
    """(seconds of ``predict``, seconds of the longest loop stall during it)."""
    stop = asyncio.Event()
    gaps = asyncio.ensure_future(longest_gap(stop))
    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(runtime.predict(inputs), DEADLINE)
    finally:
        elapsed = time.perf_counter() - started
        stop.set()
    if result["status"] != "succeeded":
        raise RuntimeError(f"prediction {result['status']}: {result['error']}")
    return elapsed, await asyncio.wait_for(gaps, 5)


async def upload_50mib(work: FsPath, *, warm: bool) -> tuple[float, float]:
    """Warm: a 1 MiB upload first, so the runtime's HTTP client exists already.

    Cold, the figure includes making that client, on the loop, at the first
    upload of a runtime (``import httpx`` only in the first run of the process).
    """
    WriteFifty.OUT_DIR = str(work)
    warm_up = [MIB] if warm else []
    async with Sink() as sink:
        async with Runtime(WriteFifty, settings=Settings(), upload_url=sink.url) as runtime:
            await runtime.wait_setup(30)
            if warm:
                await measure(runtime, {"mib": 1})
            figures = await measure(runtime, {"mib": 50})
        if sink.received != [*warm_up, 50 * MIB]:
            raise RuntimeError(f"the sink received bodies of {sink.received} bytes")
    return figures


async def data_uri(predictor: type[BasePredictor], source: FsPath) -> tuple[float, float]:
    predictor.SOURCE = str(source)  # type: ignore[attr-defined]
    async with Runtime(predictor, settings=Settings()) as runtime:
        await runtime.wait_setup(30)
        return await measure(runtime, {})


def scenarios(work: FsPath, source: FsPath) -> dict[str, Callable[[], Awaitable[Any]]]:
    return {
        "upload_50mib_cold": lambda: upload_50mib(work, warm=False),
        "upload_50mib": lambda: upload_50mib(work, warm=True),
        "data_uri_48mib_sync": lambda: data_uri(ReturnPath, source),
        "data_uri_48mib_async": lambda: data_uri(ReturnHandle, source),
    }


async def run(runs: int) -> dict[str, dict[str, float]]:
    """Interleaved runs of every scenario; median and max of each figure, in ms."""
    samples: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="cogrt-files-io-") as tmp:
        work = FsPath(tmp)
        source = work / "source.bin"
        source.write_bytes(os.urandom(48 * MIB))
        table = scenarios(work, source)
        for _ in range(runs):
            for name, scenario in table.items():
                samples.setdefault(name, []).append(await scenario())
    return {name: summary(values) for name, values in samples.items()}


def summary(values: list[tuple[float, float]]) -> dict[str, float]:
    elapsed = [1000 * e for e, _ in values]
    stalls = [1000 * s for _, s in values]
    return {
        "runs": len(values),
        "predict_ms_median": statistics.median(elapsed),
        "predict_ms_max": max(elapsed),
        "loop_stall_ms_median": statistics.median(stalls),
        "loop_stall_ms_max": max(stalls),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each scenario (default 5)")
    parser.add_argument("--json", type=FsPath, help="also write the figures to this file")
    args = parser.parse_args()
    figures = uvloop.run(run(args.runs))
    print(f"{'scenario':<22} {'predict ms median (max)':>24} {'loop stall ms median (max)':>28}")
    for name, row in figures.items():
        predict = f"{row['predict_ms_median']:.0f} ({row['predict_ms_max']:.0f})"
        stall = f"{row['loop_stall_ms_median']:.1f} ({row['loop_stall_ms_max']:.1f})"
        print(f"{name:<22} {predict:>24} {stall:>28}")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
