"""Pure helpers for the URLs and data URIs that file inputs and outputs travel as.

Kept apart from :mod:`cogrt.files` (the IO shell) so parsing, naming and MIME
decisions can be tested without sockets or disks, and so the argument builder
can decode a ``cog.File`` data URI without importing httpx.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import os
import urllib.parse
from dataclasses import dataclass

__all__ = [
    "DataURI",
    "data_uri_filename",
    "extension_for",
    "filename_for_url",
    "is_remote",
    "mime_type_for",
    "parse_data_uri",
]

_MIME = mimetypes.MimeTypes()
"""Python's built-in table only: the host's ``/etc/mime.types`` differs between
machines, and a file's MIME type must not depend on where cogrt runs."""
for _type, _ext in (
    ("image/webp", ".webp"),
    ("model/gltf-binary", ".glb"),
    ("image/bmp", ".bmp"),
    ("audio/wav", ".wav"),
):
    _MIME.add_type(_type, _ext)

_PREFERRED_EXTENSIONS = {"image/jpeg": ".jpg", "text/plain": ".txt", "audio/mpeg": ".mp3"}
"""Where ``guess_extension`` could pick a rarer spelling (``.jpe``, ``.bat``)."""

MAX_FILENAME_BYTES = 200


@dataclass(frozen=True)
class DataURI:
    """A decoded RFC 2397 ``data:`` URI."""

    media_type: str
    data: bytes


def is_remote(value: str) -> bool:
    """True for the values a Path input downloads instead of using as a local path."""
    return value.startswith(("http://", "https://", "data:"))


def parse_data_uri(uri: str) -> DataURI:
    """Decode ``data:[<media type>][;param=value]*[;base64],<payload>``.

    Raises ``ValueError`` naming what is wrong; the media type is returned
    without parameters and lower-cased (``text/plain`` when omitted, per RFC).
    """
    if not uri.startswith("data:"):
        raise ValueError("not a data URI")
    header, comma, payload = uri[5:].partition(",")
    if not comma:
        raise ValueError("data URI has no ',' before its payload")
    params = [part.strip() for part in header.split(";")]
    is_base64 = len(params) > 1 and params[-1].lower() == "base64"
    if is_base64:
        params.pop()
    media_type = params[0].lower() or "text/plain"
    if is_base64:
        raw = urllib.parse.unquote_to_bytes(payload)
        raw = raw.translate(None, b" \t\r\n")
        try:
            padded = raw.rstrip(b"=") + b"=" * (-len(raw.rstrip(b"=")) % 4)
            data = base64.b64decode(padded, altchars=b"-_", validate=True)
        except binascii.Error as exc:
            raise ValueError(f"data URI payload is not valid base64: {exc}") from exc
    else:
        data = urllib.parse.unquote_to_bytes(payload)
    return DataURI(media_type=media_type, data=data)


def data_uri_filename(media_type: str) -> str:
    """``file`` plus the media type's extension: ``image/jpeg`` -> ``file.jpg``."""
    return "file" + extension_for(media_type)


def extension_for(media_type: str) -> str:
    """The usual extension (with its dot) for a media type, or ``""``."""
    base = media_type.split(";", 1)[0].strip().lower()
    return _PREFERRED_EXTENSIONS.get(base) or _MIME.guess_extension(base) or ""


def mime_type_for(filename: str) -> str:
    """The MIME type a file output is sent with, from its extension."""
    guessed, _ = _MIME.guess_type(filename, strict=False)
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
