"""Blocks the event loop until the test's gate sends a byte, then ``os._exit(1)``.

An async predictor that blocks is a bug, used here on purpose: while it blocks,
the server accepts nothing, so the test's next connection waits in the kernel's
backlog and must be answered by the restarted runtime.
"""

import os
import socket

from cog import BasePredictor


class Predictor(BasePredictor):
    async def predict(self, gate: int = 0) -> str:
        if gate:
            with socket.create_connection(("127.0.0.1", gate), timeout=30) as conn:
                conn.recv(1)
            os._exit(1)
        return "ok"
