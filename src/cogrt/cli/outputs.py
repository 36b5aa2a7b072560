"""What ``predict`` shows of a prediction's output, as ``cog predict`` does.

Only the result goes to the result stream (the process's stdout): a string
raw, any other value as indented JSON, an iterator's chunks as they arrive
(a ``ConcatenateIterator``'s pieces run together, others one per line). File
outputs are written to disk (``output.<ext>``, ``output.<i>.<ext>`` for
several, ``-o PATH`` to choose) with a "Written output to ..." line on
stderr, and the written path stands where the file was in the result.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from cogrt.schema.output_files import FileMapper

__all__ = ["OutputPrinter", "save_file_output"]


def save_file_output(source: str, destination: Path) -> Path:
    """Copy a file output the runtime returned (a local path) to where the user wants it.

    A copy, never a move: the returned file belongs to the model (or to the
    runtime's output folder), which may still use or remove it.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)
    return destination


class OutputPrinter:
    """Writes one prediction's output: chunks while it streams, then the rest."""

    def __init__(self, mapper: FileMapper, out: BinaryIO, output_path: str | None) -> None:
        self._mapper = mapper
        self._out = out
        self._output_path = Path(output_path) if output_path else None
        self._written: list[Path] = []
        self._streamed = False
        self._needs_newline = False

    def file_count(self) -> int:
        return len(self._written)

    def on_event(self, event: str, data: Any) -> None:
        """A prediction listener: prints each streamed chunk as it arrives."""
        if event != "output" or not self._mapper.streams:
            return
        self._streamed = True
        chunk = self._mapper.chunk(data["chunk"], self._save)
        if self._mapper.concatenates and isinstance(chunk, str):
            self._write(chunk.encode())
            self._needs_newline = not chunk.endswith("\n")
        else:
            self._write(_render(chunk) + b"\n")

    def finish(self, output: Any) -> Any:
        """Write the files of a returned (not streamed) output and print it; the output
        with each file replaced by its written path."""
        if self._streamed or (self._mapper.streams and isinstance(output, list)):
            if self._needs_newline:
                self._write(b"\n")
            return output
        shown = self._mapper.whole(output, self._save)
        if shown is not None and not self._all_files(output):
            self._write(_render(shown) + b"\n")
        return shown

    def written_paths(self, output: Any) -> Any:
        """For ``--json``: the output with its files written, replaced by their paths."""
        return self._mapper.whole(output, self._save)

    def _all_files(self, output: Any) -> bool:
        """A file, or a list of files only: the "Written output" lines say it all."""
        found: list[str] = []
        self._mapper.whole(output, found.append)
        items = output if isinstance(output, list) else [output]
        return bool(found) and len(found) == len(items)

    def _save(self, source: str) -> str:
        index = len(self._written)
        many = self._mapper.streams or self._mapper.schema.get("type") == "array" or index > 0
        suffix = Path(source).suffix
        if self._output_path is not None:
            base = self._output_path
            target = base.with_name(f"{base.stem}.{index}{base.suffix}") if many else base
        else:
            target = Path(f"output.{index}{suffix}" if many else f"output{suffix}")
        written = save_file_output(source, target)
        self._written.append(written)
        print(f"Written output to {written}", file=sys.__stderr__, flush=True)
        return os.fspath(written)

    def _write(self, data: bytes) -> None:
        self._out.write(data)
        self._out.flush()


def _render(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode()
    return msgspec.json.format(msgspec.json.encode(value), indent=2)
