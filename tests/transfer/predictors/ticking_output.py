"""A file-object output whose reads note the test's loop tick count (sync and async).

The test sets ``PAYLOAD`` and counts its loop's turns in ``TICKS[0]``. cogrt
reads the returned file off the loop, block by block; each ``read`` records
the count at that moment in ``SEEN``. If the count moves between reads, the
loop ran while the file was being encoded. The file comes in a list: a sync
``predict()`` returning a file object itself would be taken for an iterator.
"""

import io

from cog import BasePredictor, Path

PAYLOAD = b""
TICKS = [0]
SEEN = []


class TickingFile(io.BytesIO):
    def read(self, size=-1):
        SEEN.append(TICKS[0])
        return super().read(size)


class Predictor(BasePredictor):
    def predict(self) -> list[Path]:
        return [TickingFile(PAYLOAD)]


class AsyncPredictor(BasePredictor):
    async def predict(self) -> list[Path]:
        return [TickingFile(PAYLOAD)]
