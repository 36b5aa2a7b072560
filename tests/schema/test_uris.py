"""Data URIs, file names, MIME types and upload URLs (§8.4, §10.4): the pure rules."""

from __future__ import annotations

import base64
import io
from pathlib import Path as FsPath

import pytest

from cogrt.schema import uris
from cogrt.schema.uris import (
    data_uri_filename,
    filename_for_url,
    mime_type_for,
    output_filename,
    parse_data_uri,
    upload_result_url,
    upload_target_url,
)
from cogrt.sdk.types import Path

# -- data URIs -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "media_type", "data"),
    [
        ("data:image/png;base64,aGVsbG8=", "image/png", b"hello"),
        ("data:image/png;base64,aGVsbG8", "image/png", b"hello"),  # padding left out
        ("data:text/plain;charset=utf-8;base64,aMOp", "text/plain", "hé".encode()),
        ("data:Image/PNG ; name=a b.png ; BASE64,aGk=", "image/png", b"hi"),
        ("data:;base64,aGk=", "text/plain", b"hi"),
        ("data:,a%20b%2Cc", "text/plain", b"a b,c"),
        ("data:text/csv,x%2Cy%0A1,2", "text/csv", b"x,y\n1,2"),
        ("data:application/octet-stream;base64,-_8=", "application/octet-stream", b"\xfb\xff"),
        ("data:application/octet-stream;base64,aGVs%0AbG8=", "application/octet-stream", b"hello"),
    ],
)
def test_parse_data_uri(uri: str, media_type: str, data: bytes) -> None:
    parsed = parse_data_uri(uri)
    assert (parsed.media_type, parsed.data) == (media_type, data)


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("data:text/plain;base64", "no ','"),
        ("data:;base64,a$b", "not valid base64"),
        ("x", "not"),
        ("data:;base64,QQ==QUFB", "not valid base64"),
        ("data:;base64,QUFBQQ==QQ", "data after the padding"),
        ("data:;base64,==", "padding without data"),
        ("data:;base64,Q===", "not valid base64"),
        ("data:;base64,aé", "not valid base64"),
    ],
)
def test_parse_data_uri_rejects(uri: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_data_uri(uri)


@pytest.mark.parametrize("block", [4, 8, 12, 1 << 20])
def test_base64_is_decoded_in_blocks_with_escapes_across_block_ends(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large payloads decode block by block (the GIL is let go in between);
    escapes, whitespace and URL-safe letters cut by a block end still decode."""
    monkeypatch.setattr(uris, "_DECODE_BLOCK", block)
    data = bytes(range(256)) * 3 + b"tail"
    standard = base64.b64encode(data).decode()
    escaped = "".join(f"%{ord(c):02X}" if i % 3 == 0 else c for i, c in enumerate(standard))
    urlsafe = base64.urlsafe_b64encode(data).decode().rstrip("=")
    wrapped = "\n".join(standard[i : i + 5] for i in range(0, len(standard), 5))
    for payload in (standard, escaped, urlsafe, wrapped):
        assert parse_data_uri("data:;base64," + payload).data == data


@pytest.mark.parametrize(
    ("media_type", "name"),
    [
        ("image/jpeg", "file.jpg"),
        ("image/png", "file.png"),
        ("image/webp", "file.webp"),
        ("text/plain", "file.txt"),
        ("text/plain; charset=utf-8", "file.txt"),
        ("audio/mpeg", "file.mp3"),
        ("application/x-unknown-thing", "file"),
    ],
)
def test_data_uri_filename(media_type: str, name: str) -> None:
    assert data_uri_filename(media_type) == name


# -- names and MIME types ------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://h.invalid/a/b/photo.jpg", "photo.jpg"),
        ("https://h.invalid/a/my%20photo+1.jpg?sig=abc#frag", "my photo 1.jpg"),
        ("https://h.invalid/x%2Fy%00z.png", "x_y_z.png"),
        ("https://h.invalid/", ""),
    ],
)
def test_filename_for_url(url: str, name: str) -> None:
    assert filename_for_url(url) == name


def test_long_filenames_are_cut_to_200_bytes_keeping_the_extension() -> None:
    name = filename_for_url("https://h.invalid/" + "a" * 300 + ".tar")
    assert name == "a" * 195 + "~.tar" and len(name.encode()) == 200
    wide = filename_for_url("https://h.invalid/" + "é" * 150 + ".png")
    assert wide.endswith("~.png") and len(wide.encode()) <= 200
    wide.encode().decode()  # no character was split


@pytest.mark.parametrize(
    ("filename", "mime"),
    [
        ("a.webp", "image/webp"),
        ("a.glb", "model/gltf-binary"),
        ("a.bmp", "image/bmp"),
        ("a.png", "image/png"),
        ("a.jpg", "image/jpeg"),
        ("a.txt", "text/plain"),
        ("a.unknownext", "application/octet-stream"),
        ("noextension", "application/octet-stream"),
    ],
)
def test_mime_type_for(filename: str, mime: str) -> None:
    assert mime_type_for(filename) == mime


@pytest.mark.parametrize(
    ("upload_url", "filename", "target"),
    [
        ("http://u.invalid/up/", "a.png", "http://u.invalid/up/a.png"),
        ("http://u.invalid/up", "a.png", "http://u.invalid/up/a.png"),
        ("http://u.invalid", "a.png", "http://u.invalid/a.png"),
        ("http://u.invalid/up/?sig=1", "a b?.png", "http://u.invalid/up/a%20b%3F.png?sig=1"),
    ],
)
def test_upload_target_url(upload_url: str, filename: str, target: str) -> None:
    assert upload_target_url(upload_url, filename) == target


@pytest.mark.parametrize(
    ("location", "result"),
    [
        (None, "http://u.invalid/up/a.png"),
        ("", "http://u.invalid/up/a.png"),
        ("https://cdn.invalid/x/a.png?sig=2#f", "https://cdn.invalid/x/a.png"),
        ("../files/a.png?sig=2", "http://u.invalid/files/a.png"),
    ],
)
def test_upload_result_url_drops_the_query(location: str | None, result: str) -> None:
    assert upload_result_url("http://u.invalid/up/a.png?sig=1", location) == result


def test_output_filenames(tmp_path: FsPath) -> None:
    assert output_filename(Path(tmp_path / "x.png"), 7) == "x.png"
    assert output_filename(io.BytesIO(b""), 7) == "7.bin"
    with open(tmp_path / "named.txt", "wb") as handle:
        assert output_filename(handle, 7) == "named.txt"
