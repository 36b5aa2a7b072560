"""Value types that model code annotates its inputs and outputs with.

These mirror ``cog.types``. They are deliberately plain Python classes: the
runtime recognises them (and the real ``cog`` package's twins) by shape, so
nothing here knows about validation or HTTP.
"""

from __future__ import annotations

import io
import os
import pathlib
from abc import abstractmethod
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = [
    "AsyncConcatenateIterator",
    "ConcatenateIterator",
    "File",
    "Opaque",
    "Path",
    "Secret",
    "URLFile",
    "URLPath",
]

_T_co = TypeVar("_T_co", covariant=True)


class Path(pathlib.PosixPath):
    """A filesystem path given to, or returned by, a predictor.

    Inputs typed ``Path`` arrive as this class pointing at a local file (URLs
    and data URIs are downloaded first); returned paths are read and sent to
    the client as a data URI or an uploaded URL.
    """

    @classmethod
    def validate(cls, value: Any) -> Path:
        """Turn a string or path-like value into a ``Path``."""
        if isinstance(value, cls):
            return value
        if isinstance(value, (str, os.PathLike)):
            return cls(value)
        raise TypeError(f"cannot make a Path from {type(value).__name__}")


class URLPath(Path):
    """A ``Path`` that remembers the URL it was (or will be) downloaded from."""

    source_url: str | None = None

    @classmethod
    def from_url(cls, local_path: str | os.PathLike[str], url: str) -> URLPath:
        """A path at ``local_path`` whose content came from ``url``."""
        path = cls(local_path)
        path.source_url = url
        return path


class File(io.IOBase):
    """Deprecated file-object input type; prefer ``Path``.

    ``File`` inputs arrive as readable binary file objects: ``data:`` URIs as
    in-memory buffers, ``http(s)`` URLs as a lazily opened ``URLFile``.
    """

    @classmethod
    def validate(cls, value: Any) -> io.IOBase:
        """Accept an already open file object; strings are resolved by the runtime."""
        if isinstance(value, io.IOBase):
            return value
        raise TypeError(f"cannot make a File from {type(value).__name__}")


class URLFile(io.RawIOBase):
    """A read-only file whose bytes come from a streaming GET on first read.

    Opening the connection lazily means a predictor that never reads its
    ``File`` input never pays for the download.
    """

    def __init__(self, url: str, *, user_agent: str | None = None) -> None:
        super().__init__()
        self.url = url
        self.name = url.rsplit("/", 1)[-1].split("?", 1)[0] or "file"
        self._user_agent = user_agent
        self._body: Iterator[bytes] | None = None
        self._response: Any = None
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._buffer:
            chunk = next(self._chunks(), b"")
            if not chunk:
                return 0
            self._buffer = chunk
        size = min(len(view), len(self._buffer))
        view[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size

    def _chunks(self) -> Iterator[bytes]:
        if self._body is None:
            import httpx

            headers = {"User-Agent": self._user_agent} if self._user_agent else {}
            client = httpx.Client(follow_redirects=True, timeout=10.0, headers=headers)
            request = client.build_request("GET", self.url)
            self._response = client.send(request, stream=True)
            self._response.raise_for_status()
            self._body = self._response.iter_bytes()
        return self._body

    def close(self) -> None:
        if self._response is not None:
            self._response.close()
        super().close()


@dataclass(frozen=True)
class Secret:
    """A string input that must never be logged or echoed back.

    ``str()`` and ``repr()`` mask the value; call ``get_secret_value()`` to
    read it. Responses show ``**********`` wherever a Secret appears.
    """

    secret_value: str | None = None

    def get_secret_value(self) -> str | None:
        return self.secret_value

    def __str__(self) -> str:
        return "" if self.secret_value is None else "**********"

    def __repr__(self) -> str:
        return "Secret(**********)"


class ConcatenateIterator(Iterator[_T_co]):
    """Marks a streamed output whose chunks a UI should join into one string."""

    @abstractmethod
    def __next__(self) -> _T_co: ...


class AsyncConcatenateIterator(AsyncIterator[_T_co]):
    """The async twin of ``ConcatenateIterator``."""

    @abstractmethod
    async def __anext__(self) -> _T_co: ...


class _OpaqueMarker:
    """``Annotated[T, Opaque]`` makes an input or output an untyped JSON object."""

    _instance: _OpaqueMarker | None = None

    def __new__(cls) -> _OpaqueMarker:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "cog.Opaque"


Opaque = _OpaqueMarker()
