"""Returned temp files (issue 16): does the temp dir grow, and what does deleting cost?

The seed documents' model (a small file in a fresh ``mkdtemp()`` directory,
returned as a ``Path``) runs ``--predictions`` times per mode, in-process on
uvloop as in the tests, with ``tempfile.tempdir`` pointed at a private
directory whose entries are counted before and after:

* ``sync_data_uri`` / ``async_data_uri``: the file becomes a data URI;
* ``sync_upload``: the file is PUT to a loopback sink (``files_io.Sink``).

Each mode runs once with cogrt deleting (the default) and once with
``keep_output_files=True`` (Cog's behaviour: the directories stay), in
alternating blocks of 100 predictions so both see the same machine load.
Reported: the temp dir's entries after the run, and the median and p90 of
``Runtime.predict`` per prediction in each setting.

    python benchmarks/temp_outputs.py
    python benchmarks/temp_outputs.py --predictions 1000 --json temp_outputs.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path as FsPath
from typing import Any

import uvloop
from files_io import DEADLINE, Sink

from cog import BasePredictor, Path
from cogrt.config import Settings
from cogrt.runner.runtime import Runtime

BLOCK = 100
"""Predictions per block; blocks alternate between deleting and keeping."""


def write_fresh(text: str) -> Path:
    out_path = Path(tempfile.mkdtemp()) / "my-file.txt"
    out_path.write_text(text)
    return out_path


class SyncSeed(BasePredictor):
    def predict(self, text: str = "hello") -> Path:
        return write_fresh(text)


class AsyncSeed(BasePredictor):
    async def predict(self, text: str = "hello") -> Path:
        return write_fresh(text)


@asynccontextmanager
async def runtime_for(mode: str, keep: bool, sink: Sink) -> AsyncIterator[Runtime]:
    predictor = AsyncSeed if mode.startswith("async") else SyncSeed
    upload_url = sink.url if mode.endswith("upload") else None
    async with Runtime(
        predictor, settings=Settings(), upload_url=upload_url, keep_output_files=keep
    ) as runtime:
        await runtime.wait_setup(30)
        yield runtime


async def one(runtime: Runtime, i: int) -> float:
    started = time.perf_counter()
    result = await asyncio.wait_for(runtime.predict({"text": f"t{i}"}), DEADLINE)
    elapsed = time.perf_counter() - started
    if result["status"] != "succeeded":
        raise RuntimeError(f"prediction {result['status']}: {result['error']}")
    return elapsed


async def measure(mode: str, predictions: int, root: FsPath) -> dict[str, Any]:
    """One mode: deleting and keeping, interleaved by blocks, each in its own temp dir."""
    dirs = {keep: root / f"{mode}-{'keep' if keep else 'delete'}" for keep in (False, True)}
    times: dict[bool, list[float]] = {False: [], True: []}
    async with Sink() as sink, AsyncExitStack() as stack:
        runtimes = {
            keep: await stack.enter_async_context(runtime_for(mode, keep, sink))
            for keep in (False, True)
        }
        for folder in dirs.values():
            folder.mkdir()
        before = {keep: len(os.listdir(dirs[keep])) for keep in dirs}
        done = 0
        while done < predictions:
            for keep in (False, True):
                tempfile.tempdir = str(dirs[keep])
                for i in range(done, min(done + BLOCK, predictions)):
                    times[keep].append(await one(runtimes[keep], i))
            done += BLOCK
        tempfile.tempdir = None
        after = {keep: len(os.listdir(dirs[keep])) for keep in dirs}
    return {
        "predictions": predictions,
        "entries_before": before[False],
        "entries_after_deleting": after[False],
        "entries_after_keeping": after[True],
        "predict_us_median_deleting": 1e6 * statistics.median(times[False]),
        "predict_us_median_keeping": 1e6 * statistics.median(times[True]),
        "predict_us_p90_deleting": 1e6 * statistics.quantiles(times[False], n=10)[-1],
        "predict_us_p90_keeping": 1e6 * statistics.quantiles(times[True], n=10)[-1],
    }


async def run(predictions: int) -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="cogrt-temp-outputs-") as tmp:
        root = FsPath(tmp)
        return {
            mode: await measure(mode, predictions, root)
            for mode in ("sync_data_uri", "async_data_uri", "sync_upload")
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--predictions", type=int, default=1000)
    parser.add_argument("--json", type=FsPath, help="also write the figures to this file")
    args = parser.parse_args()
    figures = uvloop.run(run(args.predictions))
    timing_head = "predict us median (p90), delete / keep"
    print(f"{'mode':<16} {'entries after (delete / keep)':>30} {timing_head:>44}")
    for mode, row in figures.items():
        entries = f"{row['entries_after_deleting']} / {row['entries_after_keeping']}"
        timing = (
            f"{row['predict_us_median_deleting']:.0f} ({row['predict_us_p90_deleting']:.0f}) / "
            f"{row['predict_us_median_keeping']:.0f} ({row['predict_us_p90_keeping']:.0f})"
        )
        print(f"{mode:<16} {entries:>30} {timing:>44}")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
