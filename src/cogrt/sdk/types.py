"""Value types that model code annotates its inputs and outputs with.

These mirror ``cog.types``. They are deliberately plain Python classes: the
runtime recognises them (and the real ``cog`` package's twins) by shape, so
nothing here knows about validation or HTTP.
"""

from __future__ import annotations

import io
import os
import pathlib
import threading
from abc import abstractmethod
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from cogrt.redirects import drop_redirect_body

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

SECRET_MASK = "**********"
"""What a secret's value is replaced with wherever it would be shown."""


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
    """A read-only file whose bytes come from a streaming GET.

    The runtime calls :meth:`connect` before ``predict()`` runs, so a URL that
    cannot be reached or answers non-2xx fails the prediction up front (as in
    Cog); the body is still read lazily, so a predictor that never reads its
    ``File`` input never pays for the download.
    """

    def __init__(self, url: str, *, user_agent: str | None = None) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.url = url
        self.name = url.rsplit("/", 1)[-1].split("?", 1)[0] or "file"
        self._user_agent = user_agent
        self._body: Iterator[bytes] | None = None
        self._client: Any = None
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

    def connect(self) -> None:
        """Send the GET now and check its status; the body streams as it is read.

        Blocking (the runtime calls it in a thread); a second call does
        nothing. Raises ``httpx.HTTPStatusError`` for a non-2xx answer and
        another ``httpx.HTTPError`` when the URL cannot be reached; a file
        closed meanwhile (a canceled prediction) drops the response at once.
        """
        if self._body is None:
            self._open()

    def _open(self) -> Iterator[bytes]:
        if self.closed:
            raise ValueError(f"{self.name}: I/O operation on a closed file")
        import httpx

        headers = {"User-Agent": self._user_agent} if self._user_agent else {}
        client = httpx.Client(
            follow_redirects=True,
            timeout=10.0,
            headers=headers,
            event_hooks={"request": [], "response": [drop_redirect_body]},
        )
        try:
            response = client.send(client.build_request("GET", self.url), stream=True)
            try:
                response.raise_for_status()
            except BaseException:
                response.close()
                raise
        except BaseException:
            client.close()
            raise
        with self._lock:
            if not self.closed:
                self._client, self._response = client, response
                self._body = body = response.iter_bytes()
                return body
        response.close()
        client.close()
        raise ValueError(f"{self.name}: I/O operation on a closed file")

    def _chunks(self) -> Iterator[bytes]:
        return self._body if self._body is not None else self._open()

    def close(self) -> None:
        with self._lock:
            super().close()
            response, client = self._response, self._client
            self._response = self._client = None
        if response is not None:
            response.close()
            client.close()


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
        return "" if self.secret_value is None else SECRET_MASK

    def __repr__(self) -> str:
        return f"Secret({SECRET_MASK})"


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
