"""Predictors for the test client: one behaviour each."""

import asyncio
import io
import tempfile
import threading
import time
from typing import AsyncIterator, Iterator

from cog import BasePredictor, File, Path

GATE: dict[str, asyncio.Event] = {}
"""The test puts an event here, made on the client's loop, before streaming ``Gated``."""
STARTED = threading.Event()


class Echo(BasePredictor):
    def predict(self, text: str, times: int = 1) -> str:
        print("echoing")
        return text * times


class Image(BasePredictor):
    def predict(self, source: Path) -> Path:
        out = Path(tempfile.mkdtemp()) / "copy.png"
        out.write_bytes(source.read_bytes())
        return out


class Buffer(BasePredictor):
    def predict(self, text: str) -> File:
        buffer = io.BytesIO(text.encode())
        buffer.name = "note.txt"
        return buffer


class Gated(BasePredictor):
    async def predict(self) -> AsyncIterator[str]:
        yield "first"
        await GATE["second"].wait()
        yield "second"


class Spin(BasePredictor):
    def predict(self, seconds: float = 60.0) -> Iterator[str]:
        yield "started"
        STARTED.set()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.001)
        yield "not canceled"


class Broken(BasePredictor):
    def predict(self, text: str) -> str:
        raise ValueError(f"cannot handle {text!r}")


class SetupFails(BasePredictor):
    def setup(self) -> None:
        print("loading")
        raise RuntimeError("weights not found")

    def predict(self) -> str:
        return "unreachable"
