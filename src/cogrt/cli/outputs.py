"""What ``predict`` shows of a prediction's output, as ``cog predict`` does.

Only the result goes to the result stream (the process's stdout), once the
prediction has finished: a string raw, any other value (an iterator's list
too) as indented JSON. File outputs are written to disk (``output.<ext>``,
``output.<i>.<ext>`` for several, ``-o PATH`` to choose) with a "Written
output to: ..." line on stderr, and the written path stands where the file was
in the result. With ``-o``, a value that is not a file goes to that file
instead of stdout. ``None`` prints nothing but a "No output generated" warning.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from cogrt.schema.output_files import FileMapper

__all__ = ["OutputPrinter", "render_json", "save_file_output"]


def save_file_output(source: str, destination: Path) -> Path:
    """Copy a file output the runtime returned (a local path) to where the user wants it.

    A copy, never a move: the returned file belongs to the model (or to the
    runtime's output folder), which may still use or remove it.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, destination)
    return destination


class OutputPrinter:
    """Writes one finished prediction's output where ``cog predict`` would."""

    def __init__(self, mapper: FileMapper, out: BinaryIO, output_path: str | None) -> None:
        self._mapper = mapper
        self._out = out
        self._output_path = Path(output_path) if output_path else None
        self._written: list[Path] = []

    def file_count(self) -> int:
        return len(self._written)

    def finish(self, output: Any) -> Any:
        """Write a succeeded prediction's files and print its output; the output with each
        file replaced by its written path."""
        if output is None:
            _say("No output generated")
            return None
        shown = self._mapper.whole(output, self._save)
        if self._all_files(output):
            return shown  # the "Written output" lines say it all
        schema = self._mapper.schema
        data = shown.encode() if isinstance(shown, str) and schema.get("type") == "string" else None
        self.emit(data if data is not None else _render(shown))
        return shown

    def emit(self, data: bytes) -> None:
        """The result: to ``-o PATH`` when given (and not already taken by a file), else stdout."""
        if self._output_path is not None and not self._written:
            self._output_path.parent.mkdir(parents=True, exist_ok=True)
            self._output_path.write_bytes(data)
            _say(f"Written output to: {self._output_path}")
        else:
            self._out.write(data + b"\n")
            self._out.flush()

    def written_paths(self, output: Any) -> Any:
        """For ``--json``: the output with its files written, replaced by their paths."""
        return self._mapper.whole(output, self._save)

    def _all_files(self, output: Any) -> bool:
        """A file, or a list of files only."""
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
        _say(f"Written output to: {written}")
        return os.fspath(written)


def render_json(value: Any) -> bytes:
    """Indented JSON, as Cog's CLI prints it."""
    return msgspec.json.format(msgspec.json.encode(value), indent=2)


def _render(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode()
    return render_json(value)


def _say(text: str) -> None:
    print(text, file=sys.__stderr__ or sys.stderr, flush=True)
