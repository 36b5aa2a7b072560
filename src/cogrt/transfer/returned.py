"""Deleting the temporary files a prediction returned, once their bytes are used.

Both interface documents Cog users copy from promise it: "If the output is a
``Path`` object ... this file will automatically be deleted by Cog after it
has been returned", with ``Path(tempfile.mkdtemp()) / "output.png"`` as the
example. Cog never did, so every such prediction left a directory behind.

:class:`ReturnedFiles` records each ``Path`` output of one prediction where it
is converted (a path string, no system call) and deletes them once, when the
prediction has ended and every data URI, upload or written-out copy is done,
so a file returned twice (``[p, p]``) or re-yielded by a stream is read each
time and deleted once. What may be deleted is decided then, one file at a
time, and leans towards keeping:

* the file's real path (symlinks resolved) lies inside the real path of
  ``tempfile.gettempdir()`` (``$TMPDIR``): the model's folder, its static
  assets and caches kept elsewhere are never touched, even through a symlink
  in the temp dir (the link is kept too);
* it is a regular file (never a directory tree);
* it was written (created or changed: its ``ctime``) after the prediction
  started, so a file ``setup()`` prepared in the temp dir and returned as it
  is (a placeholder image) survives, and can be returned again ("after" is
  to the file system clock's tick: a few ms on Linux);
* it is not one of the prediction's own local input files (``predict -i
  image=@photo.png`` passes the user's file; a predictor may return it).

The directory holding a deleted file goes too when it is the
``mkdtemp()`` pattern: directly inside the temp dir, empty now, private to
its owner (``mkdtemp`` makes ``0o700``), and created after the prediction
started (its birth time; where the system cannot tell, it stays). A
directory a predictor made in ``setup()`` and reuses is never removed.

``COGRT_KEEP_OUTPUT_FILES=1`` (or ``serve(keep_output_files=True)``) turns all
of it off, for predictors that need their outputs afterwards.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["ReturnedFiles", "delete_returned", "files_clock"]

_CLOCK_REALTIME_COARSE = 5
"""Linux's ``CLOCK_REALTIME_COARSE``, the clock of file timestamps (``time`` has no name for it)."""
_TICK = 0.02
"""Elsewhere: how far a file's timestamp may lag ``time.time()``."""
_PRIVATE_BITS = 0o077


def files_clock() -> float:
    """Now, as the file system stamps files written from this moment on.

    Linux stamps them from its coarse clock, up to a tick behind
    ``time.time()``: comparing a new file's ``ctime`` with ``time.time()``
    would call it older than the prediction that wrote it.
    """
    if sys.platform == "linux":
        return time.clock_gettime(_CLOCK_REALTIME_COARSE)
    return time.time() - _TICK


class ReturnedFiles:
    """The ``Path`` outputs of one prediction, deleted by :meth:`release` at its end.

    :meth:`add` is the file hooks' part (on the producing thread, per file
    output); :meth:`release` blocks on the file system, so it runs in a
    thread, once nothing reads the files any more.
    """

    __slots__ = ("_inputs", "_paths", "_since")

    def __init__(self) -> None:
        self._since = files_clock()
        self._paths: list[str] = []
        self._inputs: list[str] = []

    def __bool__(self) -> bool:
        return bool(self._paths)

    def add(self, value: object) -> None:
        """Record a file output; file objects (``io.IOBase``) are never deleted."""
        if isinstance(value, os.PathLike):
            self._paths.append(_absolute(os.fsdecode(os.fspath(value))))

    def keep(self, inputs: list[str]) -> None:
        """Never delete these local input files, whatever the predictor returns."""
        self._inputs.extend(_absolute(path) for path in inputs)

    def release(self) -> int:
        """Delete what may be deleted (see the module docstring); the count of files deleted."""
        paths, self._paths = self._paths, []
        return delete_returned(paths, since=self._since, keep=self._inputs)


def _absolute(path: str) -> str:
    """``path`` against today's working directory, ``..`` left for ``realpath`` to resolve.

    Not ``os.path.abspath``: it drops ``link/..`` by spelling, while the
    file the predictor returned is wherever ``link`` leads.
    """
    return path if os.path.isabs(path) else os.path.join(os.getcwd(), path)


def delete_returned(paths: Sequence[str], *, since: float, keep: Sequence[str] = ()) -> int:
    """Delete each of ``paths`` that is a temp file written at or after ``since``, not in ``keep``.

    Each file is deleted once, however often it appears; errors (a file
    already gone, a permission) leave it be. Returns the number deleted.
    """
    temp_dir = os.path.realpath(tempfile.gettempdir())
    seen = {os.path.realpath(path) for path in keep}
    parents: set[str] = set()
    deleted = 0
    for path in paths:
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        if not _strictly_inside(real, temp_dir) or not _written_since(real, since):
            continue
        try:
            os.unlink(real)
        except OSError:
            continue
        deleted += 1
        parent = os.path.dirname(real)
        if os.path.dirname(parent) == temp_dir:
            parents.add(parent)
    for parent in parents:
        _remove_made_since(parent, since)
    return deleted


def _strictly_inside(real: str, temp_dir: str) -> bool:
    return real != temp_dir and os.path.commonpath((real, temp_dir)) == temp_dir


def _written_since(real: str, since: float) -> bool:
    try:
        info = os.lstat(real)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_ctime >= since


def _remove_made_since(directory: str, since: float) -> None:
    """``rmdir`` a private directory born at or after ``since``; not if it holds anything."""
    try:
        info = os.lstat(directory)
    except OSError:
        return
    if not stat.S_ISDIR(info.st_mode) or stat.S_IMODE(info.st_mode) & _PRIVATE_BITS:
        return
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        return
    born = _birth_time(directory, info)
    if born is None or born < since:
        return
    try:
        os.rmdir(directory)
    except OSError:  # not empty: the predictor keeps something there
        pass


def _birth_time(path: str, info: os.stat_result) -> float | None:
    """When ``path`` was created, where the system can tell; else ``None``.

    macOS and the BSDs (and Windows from Python 3.12) report it in
    ``os.stat``; Linux only through ``statx(2)``, which Python's ``os`` does
    not call in the versions cogrt supports, so the C library's wrapper is
    called directly (:mod:`cogrt.transfer.statx`).
    """
    born: Any = getattr(info, "st_birthtime", None)
    if born is not None:
        return float(born)
    if sys.platform != "linux":
        return None
    from cogrt.transfer.statx import birth_time

    return birth_time(path)
