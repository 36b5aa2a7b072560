"""File IO around a prediction: fetching Path inputs, opening File inputs, inlining outputs.

The decisions (which values to fetch, what a file is called, its MIME type)
are pure and live in :mod:`cogrt.schema.arguments` and
:mod:`cogrt.schema.uris`; this module only moves bytes. Network reads run on
the event loop with httpx; disk writes and base64 work go to a thread so a
100 MiB input never stalls the server. Uploads of file outputs live in
:mod:`cogrt.transfer.uploads`.
"""

from __future__ import annotations

import asyncio
import binascii
import functools
import io
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path as FsPath
from typing import IO, TYPE_CHECKING, Any

from cogrt.errors import InputDownloadError
from cogrt.schema.arguments import DownloadKey
from cogrt.schema.uris import (
    data_uri_filename,
    filename_for_url,
    is_data_uri,
    mime_type_for,
    output_filename,
    parse_data_uri,
    without_query,
)
from cogrt.sdk.types import Path, URLFile
from cogrt.transfer.fanout import all_or_none
from cogrt.transfer.http_client import error_detail

if TYPE_CHECKING:  # httpx loads with the first download: start-up never needs it
    import httpx

__all__ = ["MAX_PARALLEL_DOWNLOADS", "connect_file_inputs", "download_inputs", "file_to_data_uri"]

MAX_PARALLEL_DOWNLOADS = 8
_TIMEOUT = 10.0
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

    ``http(s)`` URLs are fetched with ``client`` (following as many redirects
    as it allows; 10 s timeouts; non-2xx and bodies over ``max_bytes`` fail);
    ``data:`` URIs are decoded. Each file is new and its name ends with the
    name derived from the URL (spec §8.4). Returns
    ``cog.Path`` objects keyed by ``(name, index)``. The first failure cancels
    the other downloads and raises ``InputDownloadError``; files already
    written stay in ``directory``, which the caller removes.
    """
    headers = {"User-Agent": user_agent} if user_agent else {}

    async def fetch(name: str, url: str) -> Path:
        if is_data_uri(url):
            return await _write_data_uri(name, url, directory, max_bytes)
        return await _download(client, name, url, directory, headers, max_bytes)

    keys = [(name, index) for name, index, _ in targets]
    jobs = [functools.partial(fetch, name, url) for name, _, url in targets]
    paths = await all_or_none(jobs, limit=MAX_PARALLEL_DOWNLOADS)
    return dict(zip(keys, paths, strict=True))


async def connect_file_inputs(file_inputs: Sequence[str], arguments: Mapping[str, Any]) -> None:
    """Send the GET of every ``cog.File`` argument that streams from a URL, before ``predict``.

    ``file_inputs`` names the File inputs (``Signature.file_inputs``; empty for
    nearly every model, which then pays one check). As in Cog 0.23.1, a URL
    that cannot be reached or answers non-2xx fails the prediction with
    ``InputDownloadError`` naming the input, before user code runs; the
    bodies still stream when the predictor reads them. The GETs are blocking
    (the file is read from the worker thread), so each is sent in a thread, at
    most ``MAX_PARALLEL_DOWNLOADS`` at once. On failure or cancel every one of
    the files is closed.
    """
    if not file_inputs:
        return
    pending = [
        (name, file)
        for name in file_inputs
        for file in _as_list(arguments.get(name))
        if isinstance(file, URLFile)
    ]

    async def connect(name: str, file: URLFile) -> None:
        import httpx

        try:
            await asyncio.to_thread(file.connect)
        except httpx.HTTPStatusError as exc:
            response = exc.response
            reason = f"{response.status_code} {response.reason_phrase}".strip()
            shown = without_query(str(response.request.url))
            raise InputDownloadError(name, f"GET {shown} returned {reason}") from exc
        except httpx.HTTPError as exc:
            raise InputDownloadError(
                name, f"failed to download {without_query(file.url)}: {error_detail(exc)}"
            ) from exc

    jobs = [functools.partial(connect, name, file) for name, file in pending]
    try:
        await all_or_none(jobs, limit=MAX_PARALLEL_DOWNLOADS)
    except BaseException:
        for _, file in pending:
            file.close()
        raise


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


async def _download(
    client: httpx.AsyncClient,
    name: str,
    url: str,
    directory: FsPath,
    headers: dict[str, str],
    max_bytes: int,
) -> Path:
    import anyio
    import httpx

    shown = without_query(url)
    target: str | None = None
    try:
        request = client.build_request("GET", url, headers=headers, timeout=_TIMEOUT)
        response = await client.send(request, stream=True, follow_redirects=True)
        try:
            if not response.is_success:
                reason = f"{response.status_code} {response.reason_phrase}".strip()
                raise InputDownloadError(name, f"GET {shown} returned {reason}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise InputDownloadError(name, f"{shown} is larger than {max_bytes} bytes")
            # Created here on the loop, not in a thread: a thread still running
            # after a cancel could create the file after the caller's cleanup.
            fd, target = tempfile.mkstemp(suffix=filename_for_url(url), dir=directory)
            file = os.fdopen(fd, "wb")
            try:
                await _copy(response, file, name, shown, max_bytes)
            finally:
                with anyio.CancelScope(shield=True):  # closed before the caller cleans up
                    await asyncio.to_thread(file.close)
            return Path(target)
        finally:
            await response.aclose()
    except httpx.HTTPError as exc:
        _discard(target)
        detail = error_detail(exc, client)
        raise InputDownloadError(name, f"failed to download {shown}: {detail}") from exc
    except BaseException:
        _discard(target)
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


def _discard(path: str | None) -> None:
    """Remove a half-written download; one unlink, cheap enough for the loop."""
    if path is not None:
        FsPath(path).unlink(missing_ok=True)


async def _write_data_uri(name: str, uri: str, directory: FsPath, max_bytes: int) -> Path:
    """Decode ``uri`` (in a thread: it may be 100 MiB of base64) into a new file.

    The file is created on the loop once decoding succeeded, for the same
    reason as in :func:`_download`; the thread only writes to the open
    descriptor, which is harmless even after the directory is gone.
    """
    try:
        parsed = await asyncio.to_thread(parse_data_uri, uri)
    except ValueError as exc:
        raise InputDownloadError(name, str(exc)) from exc
    if len(parsed.data) > max_bytes:
        raise InputDownloadError(name, f"data URI is larger than {max_bytes} bytes")
    fd, target = tempfile.mkstemp(suffix=data_uri_filename(parsed.media_type), dir=directory)
    await asyncio.to_thread(_write_and_close, fd, parsed.data)
    return Path(target)


def _write_and_close(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as file:
        file.write(data)


def file_to_data_uri(value: os.PathLike[Any] | io.IOBase, index: int) -> str:
    """A file output as ``data:<mime>;base64,<payload>`` (spec §10.4).

    Blocking: call it off the event loop. A path is read from disk (a
    missing file raises ``FileNotFoundError``); a file object is rewound when
    seekable and read to the end, text being UTF-8 encoded. The MIME type
    comes from the file name: the path's, the object's ``name``, or else
    ``<index>.bin``.

    The file is read and encoded in 768 KiB blocks. A thread holding the GIL
    in one long C call stalls the event loop too; one ``b64encode`` of 50 MiB
    would do that for a good fraction of a second, while between blocks the
    loop gets its turn.
    """
    filename = output_filename(value, index)
    parts = [f"data:{mime_type_for(filename)};base64,"]
    if isinstance(value, os.PathLike):
        with open(os.fspath(value), "rb") as file:
            parts.extend(_base64_blocks(file))
    else:
        if value.seekable():
            value.seek(0)
        parts.extend(_base64_blocks(value))
    return "".join(parts)


_ENCODE_BLOCK = 3 << 18
"""768 KiB: a multiple of 3, so blocks encode independently, without inner padding."""


def _base64_blocks(file: Any) -> Iterator[str]:
    """Standard base64 of everything ``file.read`` returns (``str`` as UTF-8), block by block."""
    carry = b""
    while True:
        block = file.read(_ENCODE_BLOCK)
        if not block:
            break
        data = carry + (block.encode() if isinstance(block, str) else bytes(block))
        usable = len(data) - len(data) % 3
        carry = data[usable:]
        if usable:
            yield binascii.b2a_base64(data[:usable], newline=False).decode("ascii")
    if carry:
        yield binascii.b2a_base64(carry, newline=False).decode("ascii")
