"""Pure helpers for the URLs and data URIs that file inputs and outputs travel as.

Kept apart from :mod:`cogrt.transfer.files` (the IO shell) so parsing, naming and MIME
decisions can be tested without sockets or disks, and so the argument builder
can decode a ``cog.File`` data URI without importing httpx.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import mimetypes
import os
import urllib.parse
from typing import Any

import msgspec

__all__ = [
    "FILE_URL_PATTERN",
    "DataURI",
    "data_uri_filename",
    "extension_for",
    "filename_for_url",
    "is_data_uri",
    "is_remote",
    "mime_type_for",
    "output_filename",
    "parse_data_uri",
    "upload_result_url",
    "upload_target_url",
    "without_query",
]


@functools.cache
def _mime() -> mimetypes.MimeTypes:
    """Python's built-in table only: the host's ``/etc/mime.types`` differs between
    machines, and a file's MIME type must not depend on where cogrt runs.

    Built on first use: it costs a few ms (``MimeTypes()`` also reads the
    host's tables for the module-level functions), which start-up never needs.
    """
    table = mimetypes.MimeTypes()
    for type_, ext in (
        ("image/webp", ".webp"),
        ("model/gltf-binary", ".glb"),
        ("image/bmp", ".bmp"),
        ("audio/wav", ".wav"),
    ):
        table.add_type(type_, ext)
    return table


_PREFERRED_EXTENSIONS = {"image/jpeg": ".jpg", "text/plain": ".txt", "audio/mpeg": ".mp3"}
"""Where ``guess_extension`` could pick a rarer spelling (``.jpe``, ``.bat``)."""

MAX_FILENAME_BYTES = 200


class DataURI(msgspec.Struct, frozen=True):
    """A decoded RFC 2397 ``data:`` URI."""

    media_type: str
    data: bytes


FILE_URL_PATTERN = r"^(?i:https?://[^/?#\s]|data:)"
"""What a file input sent over HTTP must look like: an ``http(s)://`` URL with a
host, or a ``data:`` URI. A regex so msgspec checks it in C on the valid path.

Schemes are case-insensitive (RFC 3986 §3.1): ``HTTPS://host/x`` is an https
URL, and ``FILE:///etc/passwd`` is as refused as ``file:///etc/passwd``.
"""


def is_remote(value: str) -> bool:
    """True for the values a file input fetches or decodes instead of using as a local path.

    Case-insensitive in the scheme, like :data:`FILE_URL_PATTERN`: a value the
    validator let through as a URL is never taken for a local path.
    """
    return value[:8].lower().startswith(("http://", "https://", "data:"))


def is_data_uri(value: str) -> bool:
    """True for a ``data:`` URI, whatever the case of its scheme."""
    return value[:5].lower() == "data:"


def parse_data_uri(uri: str) -> DataURI:
    """Decode ``data:[<media type>][;param=value]*[;base64],<payload>``.

    Raises ``ValueError`` naming what is wrong; the media type is returned
    without parameters and lower-cased (``text/plain`` when omitted, per RFC).
    """
    if not is_data_uri(uri):
        raise ValueError("not a data URI")
    comma = uri.find(",", 5)  # no slicing of the payload: it may be 100 MiB
    if comma == -1:
        raise ValueError("data URI has no ',' before its payload")
    header = uri[5:comma]
    params = [part.strip() for part in header.split(";")]
    is_base64 = len(params) > 1 and params[-1].lower() == "base64"
    if is_base64:
        params.pop()
    media_type = params[0].lower() or "text/plain"
    if is_base64:
        try:
            data = _decode_base64(uri, comma + 1)
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise ValueError(f"data URI payload is not valid base64: {exc}") from exc
    else:
        data = urllib.parse.unquote_to_bytes(uri[comma + 1 :])
    return DataURI(media_type=media_type, data=data)


_DECODE_BLOCK = 1 << 20
"""Base64 characters decoded per step; a multiple of 4."""
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def _decode_base64(uri: str, start: int) -> bytes:
    """Strict base64 from ``uri[start:]``: URL-safe letters, percent-escapes,
    whitespace and missing padding allowed.

    Decoded block by block: callers run this in a thread, and C calls over a
    whole 100 MiB payload would hold the GIL, and so stall the event loop,
    for over a second; between blocks the loop gets its turn.
    """
    parts: list[bytes] = []
    text_carry = ""
    carry = b""
    ended = False
    for offset in range(start, len(uri), _DECODE_BLOCK):
        piece = text_carry + uri[offset : offset + _DECODE_BLOCK]
        escape = piece.rfind("%", len(piece) - 2)  # an escape cut by the block end
        piece, text_carry = (piece[:escape], piece[escape:]) if escape != -1 else (piece, "")
        raw = urllib.parse.unquote_to_bytes(piece) if "%" in piece else piece.encode("ascii")
        chunk = carry + raw.translate(_TO_STANDARD, b" \t\r\n")
        usable = len(chunk) - len(chunk) % 4
        chunk, carry = chunk[:usable], chunk[usable:]
        if chunk:
            if ended:
                raise binascii.Error("data after the padding")
            parts.append(base64.b64decode(chunk, validate=True))
            ended = chunk.endswith(b"=")
    carry += urllib.parse.unquote_to_bytes(text_carry).translate(_TO_STANDARD, b" \t\r\n")
    if carry:
        stripped = carry.rstrip(b"=")
        if ended:
            raise binascii.Error("data after the padding")
        if not stripped:
            raise binascii.Error("padding without data")
        parts.append(base64.b64decode(stripped + b"=" * (-len(stripped) % 4), validate=True))
    return b"".join(parts)


def data_uri_filename(media_type: str) -> str:
    """``file`` plus the media type's extension: ``image/jpeg`` -> ``file.jpg``."""
    return "file" + extension_for(media_type)


def extension_for(media_type: str) -> str:
    """The usual extension (with its dot) for a media type, or ``""``."""
    base = media_type.split(";", 1)[0].strip().lower()
    return _PREFERRED_EXTENSIONS.get(base) or _mime().guess_extension(base) or ""


def mime_type_for(filename: str) -> str:
    """The MIME type a file output is sent with, from its extension."""
    guessed, _ = _mime().guess_type(filename, strict=False)
    return guessed or "application/octet-stream"


def filename_for_url(url: str) -> str:
    """The name a downloaded input keeps: the URL's last path segment (spec §8.4).

    Percent- and plus-decoded, with NUL and ``/`` replaced (a decoded ``%2F``
    must not create directories), and cut to 200 UTF-8 bytes while keeping
    the extension, marking the cut with ``~``.
    """
    path = urllib.parse.urlsplit(url).path
    name = urllib.parse.unquote_plus(path.rsplit("/", 1)[-1])
    name = name.replace("\x00", "_").replace("/", "_")
    if len(name.encode()) <= MAX_FILENAME_BYTES:
        return name
    stem, ext = os.path.splitext(name)
    ext = _truncate(ext, MAX_FILENAME_BYTES // 2)
    return _truncate(stem, MAX_FILENAME_BYTES - 1 - len(ext.encode())) + "~" + ext


def _truncate(text: str, limit: int) -> str:
    """At most ``limit`` UTF-8 bytes of ``text``, never splitting a character."""
    return text.encode()[:limit].decode(errors="ignore")


def output_filename(value: os.PathLike[Any] | io.IOBase, index: int) -> str:
    """The name a file output is sent under (spec §10.4).

    A path's basename; a file object's ``name`` basename, else
    ``<index>.bin``, ``index`` counting the prediction's file outputs from 0.
    """
    if isinstance(value, os.PathLike):
        return os.path.basename(os.fsdecode(os.fspath(value)))
    name = getattr(value, "name", None)
    filename = os.path.basename(name) if isinstance(name, str) and name else ""
    return filename or f"{index}.bin"


def upload_target_url(upload_url: str, filename: str) -> str:
    """Where a file output is PUT: the upload URL's path, ``/``-terminated, plus the name.

    The name is percent-encoded so spaces or ``?`` in it cannot change the
    URL's meaning; a query string on ``upload_url`` (a signed endpoint) is kept.
    """
    parts = urllib.parse.urlsplit(upload_url)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return parts._replace(path=path + urllib.parse.quote(filename, safe="")).geturl()


def upload_result_url(request_url: str, location: str | None) -> str:
    """The URL a file output becomes once uploaded (spec §10.5).

    The response's ``Location`` (resolved against the request URL when
    relative) if there is one, else the URL the body was finally PUT to;
    either way without its query string, which may hold a signature.
    """
    url = urllib.parse.urljoin(request_url, location) if location else request_url
    return without_query(url)


def without_query(url: str) -> str:
    """``url`` without query and fragment: fit for outputs and error messages."""
    return urllib.parse.urlsplit(url)._replace(query="", fragment="").geturl()
