"""Data URIs and digests, for the tests that send files in and read them back out."""

from __future__ import annotations

import base64
import hashlib


def data_uri(data: bytes, media_type: str = "application/octet-stream") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def decode_data_uri(uri: str) -> tuple[str, bytes]:
    """``(media type, data)`` of a base64 data URI; fails on any other URI."""
    header, _, payload = uri.partition(",")
    assert header.startswith("data:") and header.endswith(";base64"), header[:80]
    return header[5:].removesuffix(";base64"), base64.b64decode(payload, validate=True)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
