"""File outputs kept on this machine, as local paths: for in-process clients only.

The one-shot ``predict`` command and the test client (:mod:`cogrt.testing`)
run for the machine's own user, who wants the files themselves, not a data
URI of them (a 500 KB image is 700 KB of base64 on a terminal) nor an upload.
A path output stays where the model wrote it; a file object is written into
the runtime's output folder, under its own name, numbered per prediction so
two outputs never share a name. That folder is removed when the runtime exits.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
from pathlib import Path
from typing import Any

from cogrt.transfer.uploads import PendingFile

__all__ = ["LocalFileStore"]


class LocalFileStore:
    """A ``FileStore`` answering each file output's absolute local path."""

    def __init__(self, directory: Path, prediction_id: str) -> None:
        self._directory = directory / prediction_id

    async def __call__(self, file: PendingFile) -> str:
        return await asyncio.to_thread(self._local_path, file)

    def _local_path(self, file: PendingFile) -> str:
        value = file.value
        if isinstance(value, os.PathLike):
            return os.path.abspath(os.fsdecode(os.fspath(value)))  # reads the working directory
        return self._write(value, file.filename, file.index)

    def _write(self, value: io.IOBase, filename: str, index: int) -> str:
        folder = self._directory / str(index)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / filename
        if value.seekable():
            value.seek(0)
        with open(target, "wb") as out:
            _copy(value, out)
        return str(target)


def _copy(source: Any, out: io.BufferedWriter) -> None:
    """Copy a binary or text file object (text as UTF-8) in blocks."""
    if isinstance(source, io.TextIOBase):
        while block := source.read(1 << 20):
            out.write(block.encode())
        return
    shutil.copyfileobj(source, out)
