"""Reading a prediction's server-sent events as they arrive: first chunk, chunks, end state.

Only what the figures need is parsed: the ``event:`` name of each frame, and
the ``status`` in the ``completed`` frame's data (spec §14).
"""

from __future__ import annotations

import time

import msgspec

__all__ = ["SseReader"]


class _Status(msgspec.Struct):
    status: str = ""


_decode_status = msgspec.json.Decoder(_Status).decode


class SseReader:
    """A body callback (``Connection.request(on_body=...)``) for one stream."""

    __slots__ = ("_pending", "chunks", "first_at", "last_at", "status")

    def __init__(self) -> None:
        self._pending = b""
        self.chunks = 0
        self.first_at: float | None = None
        self.last_at = 0.0
        self.status: str | None = None  # the ``completed`` frame's status, once seen

    def __call__(self, data: bytes) -> None:
        now = time.perf_counter()
        frames = (self._pending + data).replace(b"\r\n", b"\n").split(b"\n\n")
        self._pending = frames.pop()
        for frame in frames:
            self._frame(frame, now)

    def _frame(self, frame: bytes, now: float) -> None:
        event = b"message"
        data: list[bytes] = []
        for line in frame.split(b"\n"):
            if line.startswith(b"event:"):
                event = line[6:].strip()
            elif line.startswith(b"data:"):
                data.append(line[5:].lstrip(b" "))
        if event == b"output":
            self.chunks += 1
            if self.first_at is None:
                self.first_at = now
            self.last_at = now
        elif event == b"completed":
            try:
                self.status = _decode_status(b"\n".join(data)).status
            except msgspec.DecodeError:
                self.status = "unreadable"
