"""@streaming: one chunk per byte the test sends; the test closing its end ends it (subprocess).

``port`` is a socket the test listens on at 127.0.0.1: the predictor
connects, and for each byte it reads yields the next chunk, so the test, not
a timer, decides when a chunk is made. Waits for a byte are 10 ms ``select``
calls, so a cancel lands between them; each chunk's wait is bounded (30 s).
"""

import select
import socket
import time
from collections.abc import Iterator

from cog import BasePredictor, Input, streaming


def go_ahead(connection: socket.socket) -> bool:
    """True for a byte from the test, False once the test closed its end."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([connection], [], [], 0.01)
        if ready:
            return bool(connection.recv(1))
    raise TimeoutError("the test sent no byte within 30 s")


class Predictor(BasePredictor):
    @streaming
    def predict(self, port: int = Input()) -> Iterator[str]:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            index = 0
            while go_ahead(connection):
                yield f"chunk-{index}"
                index += 1
