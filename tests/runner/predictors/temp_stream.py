"""Yields files written to fresh ``mkdtemp()`` dirs, then ends, fails or blocks until canceled.

``same`` rewrites and re-yields one file: each chunk must carry what it held then.
"""

import asyncio
import tempfile
import threading
from typing import AsyncIterator, Iterator

from cog import BasePredictor, Path

YIELDED = threading.Event()
"""Set once every file was yielded and the predictor blocks (``then="block"``)."""
RELEASE = threading.Event()


def fresh(name: str, text: str) -> Path:
    out = Path(tempfile.mkdtemp()) / name
    out.write_text(text)
    return out


class Predictor(BasePredictor):
    def predict(self, count: int = 3, then: str = "end", same: bool = False) -> Iterator[Path]:
        reused = Path(tempfile.mkdtemp()) / "reused.txt" if same else None
        for i in range(count):
            if reused is not None:
                reused.write_text(f"step {i}")
                yield reused
            else:
                yield fresh(f"{i}.txt", f"chunk {i}")
        if then == "fail":
            raise RuntimeError("broke after the outputs")
        if then == "block":
            YIELDED.set()
            while not RELEASE.wait(0.005):  # bytecode boundaries: cancel can land here
                pass


class AsyncPredictor(BasePredictor):
    async def predict(self, count: int = 3, then: str = "end") -> AsyncIterator[Path]:
        for i in range(count):
            yield fresh(f"{i}.txt", f"chunk {i}")
        if then == "fail":
            raise RuntimeError("broke after the outputs")
        if then == "block":
            YIELDED.set()
            await asyncio.Event().wait()  # until canceled
