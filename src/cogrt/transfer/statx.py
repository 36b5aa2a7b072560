"""A file's birth time on Linux, through ``statx(2)``, which Python's ``os`` does not call.

Only :mod:`cogrt.transfer.returned` needs it, to tell a directory a
prediction made from one that was there before; it imports this module the
first time it considers removing a directory, so ``ctypes`` is never loaded
by a model that returns no temp files. Any failure (no ``statx`` in the C
library, a kernel or file system that keeps no birth time) is ``None``: the
caller then keeps the directory.
"""

from __future__ import annotations

import ctypes
import functools
import os
from typing import Any

__all__ = ["birth_time"]

_AT_FDCWD = -100
_AT_SYMLINK_NOFOLLOW = 0x100
_STATX_BTIME = 0x800


class _Timestamp(ctypes.Structure):
    _fields_ = (
        ("tv_sec", ctypes.c_int64),
        ("tv_nsec", ctypes.c_uint32),
        ("_reserved", ctypes.c_int32),
    )


class _Statx(ctypes.Structure):
    """``struct statx`` up to ``stx_btime``, padded to its 256 bytes (linux/stat.h)."""

    _fields_ = (
        ("stx_mask", ctypes.c_uint32),
        ("stx_blksize", ctypes.c_uint32),
        ("stx_attributes", ctypes.c_uint64),
        ("stx_nlink", ctypes.c_uint32),
        ("stx_uid", ctypes.c_uint32),
        ("stx_gid", ctypes.c_uint32),
        ("stx_mode", ctypes.c_uint16),
        ("_spare0", ctypes.c_uint16),
        ("stx_ino", ctypes.c_uint64),
        ("stx_size", ctypes.c_uint64),
        ("stx_blocks", ctypes.c_uint64),
        ("stx_attributes_mask", ctypes.c_uint64),
        ("stx_atime", _Timestamp),
        ("stx_btime", _Timestamp),
        ("_rest", ctypes.c_uint8 * 160),
    )


@functools.cache
def _statx() -> Any:
    """The C library's ``statx``, or ``None`` (glibc before 2.28, an unusual libc)."""
    try:
        function = ctypes.CDLL(None, use_errno=True).statx
    except (AttributeError, OSError):
        return None
    function.argtypes = (
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_Statx),
    )
    function.restype = ctypes.c_int
    return function


def birth_time(path: str) -> float | None:
    """Seconds since the epoch when ``path`` (not a symlink's target) was created, or ``None``."""
    function = _statx()
    if function is None:
        return None
    result = _Statx()
    status = function(
        _AT_FDCWD, os.fsencode(path), _AT_SYMLINK_NOFOLLOW, _STATX_BTIME, ctypes.byref(result)
    )
    if status != 0 or not result.stx_mask & _STATX_BTIME:
        return None
    seconds: int = result.stx_btime.tv_sec
    nanoseconds: int = result.stx_btime.tv_nsec
    return seconds + nanoseconds / 1e9
