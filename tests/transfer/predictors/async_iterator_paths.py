import io
from typing import AsyncIterator

from cog import BasePredictor, Path

OUT_DIR = None


class Predictor(BasePredictor):
    async def predict(self, count: int = 3) -> AsyncIterator[Path]:
        for i in range(count):
            out = Path(OUT_DIR) / f"a{i}.png"
            out.write_bytes(b"\x89PNG" + bytes([i]))
            yield out
