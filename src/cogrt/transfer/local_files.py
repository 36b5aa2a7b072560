"""File outputs kept on this machine, as local paths: for in-process clients only.

The one-shot ``predict`` command and the test client (:mod:`cogrt.testing`)
run for the machine's own user, who wants the files themselves, not a data
URI of them (a 500 KB image is 700 KB of base64 on a terminal) nor an upload.
Each file output is copied into the runtime's output folder, under its own
name, numbered per prediction so two outputs never share a name: a returned
temp file is deleted when its prediction ends (:mod:`cogrt.transfer.returned`),
and the copy is what the client reads afterwards. That folder is removed when
the runtime exits.
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
        folder = self._directory / str(file.index)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / file.filename
        value = file.value
        if isinstance(value, os.PathLike):
            shutil.copyfile(value, target)
            return str(target)
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
