"""An upload's bytes, streamed from the output file in 1 MiB reads done in a thread.

Neither the file nor its base64 is ever held in memory whole. httpx iterates
the body once per request it sends, so a redirect or a retry sends it again
from its start, when the file can seek there.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator
from typing import IO, Any

__all__ = ["UploadBody", "open_settled"]

_CHUNK_BYTES = 1 << 20


class UploadBody:
    """An upload's bytes: a file cogrt opened (and closes), or the predictor's file object."""

    def __init__(self, handle: IO[Any], *, owned: bool, size: int | None, start: int | None):
        self._handle = handle
        self._owned = owned
        self.size = size
        self._start = start
        self._read = False

    @property
    def replayable(self) -> bool:
        """Sent again from its start as often as asked (a redirect, a retry)."""
        return self._start is not None

    @property
    def rewindable(self) -> bool:
        """Can be sent (again) now: replayable, or never read yet."""
        return self._start is not None or not self._read

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """The bytes from the start, read in a thread; httpx iterates it once per request."""
        if self._read and self._start is not None:
            await asyncio.to_thread(self._handle.seek, self._start)
        self._read = True
        while True:
            chunk = await asyncio.to_thread(self._handle.read, _CHUNK_BYTES)
            if not chunk:
                return
            yield chunk.encode() if isinstance(chunk, str) else bytes(chunk)

    def close(self) -> None:
        if self._owned:
            self._handle.close()


def _open_body(value: os.PathLike[Any] | io.IOBase) -> UploadBody:
    """Blocking: open a path output, or rewind a file object (spec §10.4)."""
    if isinstance(value, os.PathLike):
        handle: IO[Any] = open(os.fspath(value), "rb")  # noqa: SIM115 - closed by UploadBody.close
        return UploadBody(handle, owned=True, size=os.fstat(handle.fileno()).st_size, start=0)
    stream: Any = value
    if not value.seekable():
        return UploadBody(stream, owned=False, size=None, start=None)
    value.seek(0)
    size = None
    if not isinstance(value, io.TextIOBase):  # text sizes are in characters, not bytes
        size = value.seek(0, os.SEEK_END)
        value.seek(0)
    return UploadBody(stream, owned=False, size=size, start=0)


async def open_settled(value: os.PathLike[Any] | io.IOBase) -> UploadBody:
    """:func:`_open_body` in a thread, closing what it opened if the caller is canceled."""
    opening = asyncio.ensure_future(asyncio.to_thread(_open_body, value))
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        opening.add_done_callback(_close_opened)
        raise


def _close_opened(opening: asyncio.Future[UploadBody]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()
