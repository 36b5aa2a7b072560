"""File IO around a prediction: fetching Path inputs, inlining file outputs.

The decisions (which values to fetch, what a file is called, its MIME type)
are pure and live in :mod:`cogrt.schema.arguments` and
:mod:`cogrt.schema.uris`; this module only moves bytes. Network reads run on
the event loop with httpx; disk writes and base64 work go to a thread so a
100 MiB input never stalls the server.
"""

from __future__ import annotations

import asyncio
import base64
import io
import os
import tempfile
import urllib.parse
from collections.abc import Awaitable, Sequence
from pathlib import Path as FsPath
from typing import IO, Any

import httpx

from cogrt.errors import InputDownloadError
from cogrt.schema.arguments import DownloadKey
from cogrt.schema.uris import data_uri_filename, filename_for_url, mime_type_for, parse_data_uri
from cogrt.sdk.types import Path

__all__ = ["MAX_PARALLEL_DOWNLOADS", "download_inputs", "file_to_data_uri"]

MAX_PARALLEL_DOWNLOADS = 8
_TIMEOUT = httpx.Timeout(10.0)
"""Connect and read (and write/pool) timeouts of one download, per spec §8.4."""
_FLUSH_BYTES = 1 << 20


async def download_inputs(
    targets: Sequence[tuple[str, int | None, str]],
    directory: FsPath,
    *,
    client: httpx.AsyncClient,
    user_agent: str | None,
    max_bytes: int,
) -> dict[DownloadKey, Path]:
    """Fetch every ``(name, index, url)`` into ``directory``, at most 8 at a time.

    ``http(s)`` URLs are fetched with ``client`` (redirects followed up to the
    client's ``max_redirects``; 10 s timeouts; non-2xx and bodies over
    ``max_bytes`` fail); ``data:`` URIs are decoded. Each file is new and its
    name ends with the name derived from the URL (spec §8.4). Returns
    ``cog.Path`` objects keyed by ``(name, index)``. The first failure cancels
    the other downloads and raises ``InputDownloadError``; files already
    written stay in ``directory``, which the caller removes.
    """
    gate = asyncio.Semaphore(MAX_PARALLEL_DOWNLOADS)
    headers = {"User-Agent": user_agent} if user_agent else {}

    async def fetch(name: str, url: str) -> Path:
        async with gate:
            if url.startswith("data:"):
                return await asyncio.to_thread(_write_data_uri, name, url, directory, max_bytes)
            return await _download(client, name, url, directory, headers, max_bytes)

    keys = [(name, index) for name, index, _ in targets]
    paths = await _all_or_nothing([fetch(name, url) for name, _, url in targets])
    return dict(zip(keys, paths, strict=True))


async def _all_or_nothing(jobs: list[Awaitable[Path]]) -> list[Path]:
    """Run ``jobs`` concurrently; on the first failure cancel the rest and re-raise it."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error
        return [task.result() for task in tasks]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _download(
    client: httpx.AsyncClient,
    name: str,
    url: str,
    directory: FsPath,
    headers: dict[str, str],
    max_bytes: int,
) -> Path:
    shown = _without_query(url)
    target: str | None = None
    try:
        async with client.stream(
            "GET", url, headers=headers, timeout=_TIMEOUT, follow_redirects=True
        ) as response:
            if not response.is_success:
                reason = f"{response.status_code} {response.reason_phrase}".strip()
                raise InputDownloadError(name, f"GET {shown} returned {reason}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise InputDownloadError(name, f"{shown} is larger than {max_bytes} bytes")
            fd, created = await asyncio.to_thread(
                tempfile.mkstemp, suffix=filename_for_url(url), dir=directory
            )
            target = created
            file = await asyncio.to_thread(os.fdopen, fd, "wb")
            try:
                await _copy(response, file, name, shown, max_bytes)
            finally:
                await asyncio.to_thread(file.close)
            return Path(created)
    except httpx.HTTPError as exc:
        await _discard(target)
        detail = str(exc) or type(exc).__name__
        raise InputDownloadError(name, f"failed to download {shown}: {detail}") from exc
    except BaseException:
        await _discard(target)
        raise


async def _copy(
    response: httpx.Response, file: IO[bytes], name: str, shown: str, max_bytes: int
) -> None:
    """Stream the body to ``file``, writing in 1 MiB batches off the loop."""
    total = 0
    pending: list[bytes] = []
    pending_size = 0
    async for chunk in response.aiter_bytes():
        total += len(chunk)
        if total > max_bytes:
            raise InputDownloadError(name, f"{shown} is larger than {max_bytes} bytes")
        pending.append(chunk)
        pending_size += len(chunk)
        if pending_size >= _FLUSH_BYTES:
            await asyncio.to_thread(file.write, b"".join(pending))
            pending, pending_size = [], 0
    if pending:
        await asyncio.to_thread(file.write, b"".join(pending))


async def _discard(path: str | None) -> None:
    if path is not None:
        await asyncio.to_thread(FsPath(path).unlink, missing_ok=True)


def _write_data_uri(name: str, uri: str, directory: FsPath, max_bytes: int) -> Path:
    try:
        parsed = parse_data_uri(uri)
    except ValueError as exc:
        raise InputDownloadError(name, str(exc)) from exc
    if len(parsed.data) > max_bytes:
        raise InputDownloadError(name, f"data URI is larger than {max_bytes} bytes")
    fd, target = tempfile.mkstemp(suffix=data_uri_filename(parsed.media_type), dir=directory)
    with os.fdopen(fd, "wb") as file:
        file.write(parsed.data)
    return Path(target)


def _without_query(url: str) -> str:
    """A URL fit for an error message: signed query strings are credentials."""
    return urllib.parse.urlsplit(url)._replace(query="", fragment="").geturl()


def file_to_data_uri(value: os.PathLike[Any] | io.IOBase, index: int) -> str:
    """A file output as ``data:<mime>;base64,<payload>`` (spec §10.4).

    Blocking: call it off the event loop. A path is read from disk (a
    missing file raises ``FileNotFoundError``); a file object is rewound when
    seekable and read to the end, text being UTF-8 encoded. The MIME type
    comes from the file name: the path's, the object's ``name``, or else
    ``<index>.bin``.
    """
    if isinstance(value, os.PathLike):
        path = os.fsdecode(os.fspath(value))
        filename = os.path.basename(path)
        with open(path, "rb") as file:
            data = file.read()
    else:
        if value.seekable():
            value.seek(0)
        content = value.read()
        data = content.encode() if isinstance(content, str) else bytes(content or b"")
        name = getattr(value, "name", None)
        filename = os.path.basename(name) if isinstance(name, str) and name else ""
        filename = filename or f"{index}.bin"
    encoded = base64.b64encode(data).decode("ascii")
    return f"data:{mime_type_for(filename)};base64,{encoded}"
