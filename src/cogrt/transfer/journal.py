"""The crash journal: what a supervised runtime owes webhook receivers if it dies.

A prediction whose ``webhook`` wants the ``completed`` event gets a line in
its runtime process's journal when it is created, one when it starts
processing and one when it is terminal. When user code kills the process
(``os._exit``, a segfault), :mod:`cogrt.supervisor` starts another, and that
one sends every prediction the dead journal left open a terminal ``failed``
webhook naming the cause, through the same ``WebhookSender`` (headers,
signing, retries) as any terminal webhook, while its own setup runs.

Each line is one ``os.write`` to a file opened with ``O_APPEND``, only for
predictions with such a webhook; others never touch the journal. The file
(``runtime-<generation>.jsonl`` in the supervisor's directory) is rewritten
with just the open entries once ``COMPACT_BYTES`` have been appended, so it
stays small however long the process serves. A line torn by the process's
death or by a full disk is skipped when the journal is read.

Not recorded: logs and output so far (the ``failed`` payload has none),
inputs whose JSON is over ``MAX_INPUT_BYTES`` (inline files; the payload's
``input`` is ``null``), and a finished prediction whose terminal webhook was
still being retried when the process died (it is not re-sent as failed).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import msgspec

from cogrt.clock import utc_now
from cogrt.transfer.record import PredictionRecord
from cogrt.transfer.webhooks import TRACE_HEADERS

__all__ = ["COMPACT_BYTES", "MAX_INPUT_BYTES", "Journal", "Orphan"]

log = logging.getLogger("cogrt.journal")

COMPACT_BYTES = 1024 * 1024
"""Bytes appended before the journal is rewritten with only its open entries."""
MAX_INPUT_BYTES = 64 * 1024
"""Inputs whose JSON is larger are not journaled (a crash payload shows ``null``)."""
_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


class _Opened(msgspec.Struct, tag_field="op", tag="opened"):
    id: str
    url: str
    trace: dict[str, str]
    input: msgspec.Raw
    created_at: str


class _Processing(msgspec.Struct, tag_field="op", tag="processing"):
    id: str
    started_at: str


class _Closed(msgspec.Struct, tag_field="op", tag="closed"):
    id: str


_encode = msgspec.json.Encoder().encode
_decode_line = msgspec.json.Decoder(_Opened | _Processing | _Closed).decode
_NULL = msgspec.Raw(b"null")


class Orphan:
    """A prediction a dead runtime left in flight: it is owed a terminal webhook.

    A plain class: a dataclass costs 1.5 ms of start-up to generate.
    """

    __slots__ = ("cause", "entry", "path", "started_at")

    def __init__(self, path: str, entry: _Opened, started_at: str | None, cause: str) -> None:
        self.path = path
        """The journal it was found in (removed once all its orphans are delivered)."""
        self.entry = entry
        self.started_at = started_at
        self.cause = cause

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def url(self) -> str:
        return self.entry.url

    @property
    def trace_headers(self) -> dict[str, str]:
        return self.entry.trace

    def payload(self) -> bytes:
        """The terminal webhook body, shaped like ``Prediction.snapshot()``."""
        return _encode(
            {
                "id": self.entry.id,
                "status": "failed",
                "input": self.entry.input,
                "output": None,
                "error": f"The runtime process died ({self.cause}) while this prediction ran",
                "logs": "",
                "metrics": {},
                "created_at": self.entry.created_at,
                "started_at": self.started_at,
                "completed_at": utc_now(),
            }
        )


class Journal:
    """One runtime process's journal, and the dead ones it finds beside it."""

    def __init__(self, directory: str, generation: int, causes: Mapping[int, str]) -> None:
        self._dir = directory
        self._generation = generation
        self._causes = causes
        self._path = os.path.join(directory, f"runtime-{generation}.jsonl")
        self._fd: int | None = None
        self._disabled = False
        self._written = 0
        self._open: dict[str, list[bytes]] = {}
        self._orphans_left: dict[str, int] = {}

    # -- this process's predictions, on the loop ------------------------------------

    def opened(self, prediction: PredictionRecord, url: str, headers: Mapping[str, str]) -> None:
        """``prediction`` will want a terminal webhook to ``url``; of ``headers`` (the
        outgoing ones) only the trace headers are kept, never credentials."""
        if self._disabled:
            return
        trace = {name: headers[name] for name in TRACE_HEADERS if name in headers}
        raw = _encode(prediction.input)
        entry = _Opened(
            prediction.id,
            url,
            trace,
            msgspec.Raw(raw) if len(raw) <= MAX_INPUT_BYTES else _NULL,
            prediction.created_at,
        )
        line = _encode(entry) + b"\n"
        self._open[prediction.id] = [line]
        self._append(line)

    def processing(self, prediction: PredictionRecord) -> None:
        lines = self._open.get(prediction.id)
        if lines is None or prediction.started_at is None:
            return
        line = _encode(_Processing(prediction.id, prediction.started_at)) + b"\n"
        lines.append(line)
        self._append(line)

    def closed(self, prediction_id: str) -> None:
        if self._open.pop(prediction_id, None) is None:
            return
        self._append(_encode(_Closed(prediction_id)) + b"\n")
        if self._written >= COMPACT_BYTES:
            self._compact()

    def _append(self, line: bytes) -> None:
        if self._disabled:
            return
        try:
            if self._fd is None:
                os.makedirs(self._dir, mode=0o700, exist_ok=True)
                self._fd = os.open(self._path, _FLAGS, 0o600)
            _write_all(self._fd, line)
        except OSError as exc:
            self._disable(exc)
            return
        self._written += len(line)

    def _compact(self) -> None:
        """Keep only the open entries: truncate, or write them to a new file and swap it in."""
        if self._fd is None:
            return
        try:
            if not self._open:
                os.ftruncate(self._fd, 0)
                self._written = 0
                return
            data = b"".join(line for lines in self._open.values() for line in lines)
            fresh = f"{self._path}.tmp"
            fd = os.open(fresh, _FLAGS | os.O_TRUNC, 0o600)
            try:
                _write_all(fd, data)
            except OSError:
                os.close(fd)
                raise
            os.replace(fresh, self._path)
            os.close(self._fd)
            self._fd = fd
            self._written = len(data)
        except OSError as exc:
            self._disable(exc)

    def _disable(self, exc: OSError) -> None:
        log.warning(
            "crash journal %s disabled (%s): predictions running when this process dies "
            "will get no terminal webhook",
            self._path,
            exc,
        )
        self._disabled = True
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    # -- what dead processes left ------------------------------------------------------

    def orphans(self) -> list[Orphan]:
        """Every prediction a dead runtime's journal left open; empty journals are removed."""
        try:
            names = sorted(os.listdir(self._dir))
        except OSError:
            return []
        found: list[Orphan] = []
        for name in names:
            generation = _generation_of(name)
            if generation is None or generation == self._generation:
                continue
            path = os.path.join(self._dir, name)
            if name.endswith(".tmp"):  # a compaction the process did not finish
                _remove(path)
                continue
            cause = self._causes.get(generation, "cause unknown")
            left = [Orphan(path, *pair, cause) for pair in _read_open(path)]
            if left:
                self._orphans_left[path] = len(left)
                found.extend(left)
            else:
                _remove(path)
        return found

    def delivered(self, orphan: Orphan) -> None:
        """``orphan``'s terminal webhook was sent (or given up on)."""
        left = self._orphans_left.get(orphan.path, 0) - 1
        if left > 0:
            self._orphans_left[orphan.path] = left
            return
        self._orphans_left.pop(orphan.path, None)
        _remove(orphan.path)


def _generation_of(name: str) -> int | None:
    stem = name.removesuffix(".tmp")
    if not (stem.startswith("runtime-") and stem.endswith(".jsonl")):
        return None
    digits = stem[len("runtime-") : -len(".jsonl")]
    return int(digits) if digits.isdigit() else None


def _read_open(path: str) -> list[tuple[_Opened, str | None]]:
    """The entries of a journal file that were never closed, in the order they opened."""
    try:
        with open(path, "rb") as file:
            lines = file.read().splitlines()
    except OSError as exc:
        log.warning("cannot read crash journal %s: %s", path, exc)
        return []
    entries: dict[str, tuple[_Opened, str | None]] = {}
    for line in lines:
        try:
            record = _decode_line(line)
        except msgspec.DecodeError:
            continue
        if isinstance(record, _Opened):
            entries[record.id] = (record, None)
        elif isinstance(record, _Processing):
            if record.id in entries:
                entries[record.id] = (entries[record.id][0], record.started_at)
        else:
            entries.pop(record.id, None)
    return list(entries.values())


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("cannot remove crash journal %s: %s", path, exc)
