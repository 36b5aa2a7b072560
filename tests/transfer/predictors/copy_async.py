import asyncio

from cog import BasePredictor, Path

CALLS = []
HOLDING = asyncio.Event()
HELD = []  # input handles the predictor keeps; the test closes them


class Predictor(BasePredictor):
    async def predict(self, doc: Path, mode: str = "copy") -> Path:
        CALLS.append(str(doc))
        if mode == "fail":
            raise RuntimeError("predictor refused " + doc.name)
        handle = open(doc, "rb")
        HELD.append(handle)
        if mode == "hold":  # user code keeps the input open while it is canceled
            HOLDING.set()
            await asyncio.Event().wait()
        return handle  # a file object output: read (and uploaded) by cogrt
