"""Models for the queue worker tests. Each run appends its ``n`` to ``record``
(O_APPEND: lines from concurrent runs never mix), so a test counts runs."""

import asyncio
import os
from typing import AsyncIterator

from cog import BasePredictor, Input


def _record(path: str, n: int) -> None:
    if path:
        with open(path, "a") as f:
            f.write(f"{n}\n")


class Async(BasePredictor):
    async def predict(
        self,
        n: int = 0,
        sleep: float = 0.0,
        record: str = "",
        crash: bool = False,
        block_once: str = "",
        wait_for: str = "",
    ) -> str:
        _record(record, n)
        for _ in range(6000):  # the test creates the file when it wants this run to end
            if not wait_for or os.path.exists(wait_for):
                break
            await asyncio.sleep(0.01)
        if crash:
            os._exit(3)
        if block_once and not os.path.exists(block_once):
            open(block_once, "w").close()  # the first run hangs; a later delivery does not
            await asyncio.sleep(3600)
        await asyncio.sleep(sleep)
        return f"done {n}"


class Stream(BasePredictor):
    async def predict(self, count: int = 3) -> AsyncIterator[str]:
        for i in range(count):
            print(f"token {i}")
            yield f"t{i}"


class SetupFails(BasePredictor):
    def setup(self) -> None:
        raise RuntimeError("weights missing")

    async def predict(self, n: int = 0) -> int:
        return n
