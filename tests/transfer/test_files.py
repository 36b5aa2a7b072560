"""File inputs and outputs: data URIs, file names, MIME types (§8.4, §10.4) and downloads.

Downloads talk to a real HTTP server on a 127.0.0.1:0 socket in a thread;
every wait on it is bounded.
"""

from __future__ import annotations

import asyncio
import base64
import io
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path as FsPath
from typing import Any

import httpx
import pytest

from cogrt.errors import InputDownloadError
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
from cogrt.sdk.types import Path, URLFile
from cogrt.transfer import files
from cogrt.transfer.files import download_inputs, file_to_data_uri

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


# -- file outputs --------------------------------------------------------------


def test_path_output_becomes_a_data_uri(tmp_path: FsPath) -> None:
    target = tmp_path / "out.png"
    target.write_bytes(b"\x89PNG\r\n\x1a")
    uri = file_to_data_uri(Path(target), 0)
    assert uri == "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a").decode()
    assert uri.endswith("=")  # standard base64 keeps its padding


def test_missing_path_output_fails(tmp_path: FsPath) -> None:
    with pytest.raises(FileNotFoundError):
        file_to_data_uri(tmp_path / "gone.txt", 0)


def test_file_object_output_is_rewound_and_named(tmp_path: FsPath) -> None:
    target = tmp_path / "notes.txt"
    target.write_bytes(b"abc")
    with open(target, "rb") as handle:
        handle.read(2)
        assert file_to_data_uri(handle, 4) == "data:text/plain;base64,YWJj"


def test_large_output_encodes_like_one_b64encode(tmp_path: FsPath) -> None:
    """Block-wise encoding (768 KiB blocks) must equal the one-shot result, for
    paths and for file objects whose reads are not multiples of 3 bytes."""
    data = bytes(range(256)) * 12289  # 3 MiB + 256 bytes: several blocks, odd tail
    target = tmp_path / "big.bin"
    target.write_bytes(data)
    expected = "data:application/octet-stream;base64," + base64.b64encode(data).decode()
    assert file_to_data_uri(Path(target), 0) == expected
    text = io.StringIO("é" * 500_000)  # 2 bytes per character once encoded
    assert (
        file_to_data_uri(text, 0).split(",")[1]
        == base64.b64encode(("é" * 500_000).encode()).decode()
    )


def test_unnamed_file_object_output_is_numbered() -> None:
    assert (
        file_to_data_uri(io.BytesIO(b"\x00\x01"), 3) == "data:application/octet-stream;base64,AAE="
    )
    text = io.StringIO("hé")
    assert base64.b64decode(file_to_data_uri(text, 0).split(",")[1]) == "hé".encode()


# -- downloads -----------------------------------------------------------------


@dataclass
class ServerState:
    base: str = ""
    user_agents: list[str | None] = field(default_factory=list)
    active: int = 0
    max_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    gate: threading.Event = field(default_factory=threading.Event)
    full: threading.Event = field(default_factory=threading.Event)
    hang: threading.Event = field(default_factory=threading.Event)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def do_GET(self) -> None:
        state: ServerState = self.server.state
        state.user_agents.append(self.headers.get("User-Agent"))
        route = self.path.split("?")[0]
        if route.startswith("/files/"):
            self.reply(200, b"content of " + route.encode())
        elif route == "/redirect":
            self.reply(302, b"", {"Location": "/files/redirected.txt"})
        elif route == "/loop":
            self.reply(302, b"", {"Location": "/loop"})
        elif route == "/big-declared":
            self.reply(200, b"x" * 100)
        elif route == "/big-streamed":
            self.close_connection = True
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"y" * 100)
        elif route.startswith("/gate/"):
            with state.lock:
                state.active += 1
                state.max_active = max(state.max_active, state.active)
                if state.active == files.MAX_PARALLEL_DOWNLOADS:
                    state.full.set()
            state.gate.wait(5)
            with state.lock:
                state.active -= 1
            self.reply(200, b"gated")
        elif route == "/hang":
            state.hang.wait(5)
            self.reply(200, b"late")
        else:
            self.reply(404, b"not found")

    def reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # the default 5 drops parallel SYNs, costing 1 s retries
    state: ServerState

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up mid-response is expected here


@pytest.fixture
def server() -> Iterator[ServerState]:
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.state = ServerState(base=f"http://127.0.0.1:{httpd.server_address[1]}")
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd.state
    finally:
        httpd.state.gate.set()
        httpd.state.hang.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(max_redirects=3) as http:
        yield http


async def download(
    targets: Sequence[tuple[str, int | None, str]],
    directory: FsPath,
    client: httpx.AsyncClient,
    max_bytes: int = 1000,
) -> dict[Any, Path]:
    return await asyncio.wait_for(
        download_inputs(
            targets, directory, client=client, user_agent="cogrt-test/1", max_bytes=max_bytes
        ),
        timeout=10,
    )


async def test_downloads_keep_the_url_name_and_send_the_user_agent(
    server: ServerState, client: httpx.AsyncClient, tmp_path: FsPath
) -> None:
    url = f"{server.base}/files/my%20photo.txt?token=1"
    result = await download([("image", None, url)], tmp_path, client)
    path = result[("image", None)]
    assert isinstance(path, Path) and path.parent == tmp_path
    assert path.name.endswith("my photo.txt") and path.name != "my photo.txt"
    assert path.read_bytes() == b"content of /files/my%20photo.txt"
    assert server.user_agents == ["cogrt-test/1"]


async def test_data_uris_and_lists_are_keyed_by_position(
    server: ServerState, client: httpx.AsyncClient, tmp_path: FsPath
) -> None:
    jpeg = "data:image/jpeg;base64," + base64.b64encode(b"\xff\xd8").decode()
    result = await download(
        [("paths", 0, jpeg), ("paths", 1, f"{server.base}/files/b.bin")], tmp_path, client
    )
    assert set(result) == {("paths", 0), ("paths", 1)}
    assert result[("paths", 0)].name.endswith("file.jpg")
    assert result[("paths", 0)].read_bytes() == b"\xff\xd8"
    assert result[("paths", 1)].read_bytes() == b"content of /files/b.bin"


async def test_redirects_are_followed(
    server: ServerState, client: httpx.AsyncClient, tmp_path: FsPath
) -> None:
    result = await download([("f", None, f"{server.base}/redirect")], tmp_path, client)
    assert result[("f", None)].read_bytes() == b"content of /files/redirected.txt"


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        ("/missing?secret=1", "returned 404 Not Found"),
        ("/loop", "failed to download"),
        ("/big-declared", "is larger than 50 bytes"),
        ("/big-streamed", "is larger than 50 bytes"),
    ],
)
async def test_download_failures_name_the_input(
    server: ServerState, client: httpx.AsyncClient, tmp_path: FsPath, route: str, reason: str
) -> None:
    with pytest.raises(InputDownloadError) as info:
        await download([("image", None, server.base + route)], tmp_path, client, max_bytes=50)
    message = str(info.value)
    assert message.startswith("Input validation error: ") and message.endswith("for input 'image'")
    assert reason in message and "secret" not in message
    assert list(tmp_path.iterdir()) == []  # no partial file is left behind


async def test_bad_data_uri_fails_the_download(client: httpx.AsyncClient, tmp_path: FsPath) -> None:
    with pytest.raises(InputDownloadError, match="for input 'doc'"):
        await download([("doc", None, "data:text/plain;base64,@@")], tmp_path, client)


async def test_read_timeout_fails(
    server: ServerState,
    client: httpx.AsyncClient,
    tmp_path: FsPath,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(files, "_TIMEOUT", httpx.Timeout(0.2))
    with pytest.raises(InputDownloadError, match="failed to download"):
        await download([("slow", None, f"{server.base}/hang")], tmp_path, client)


async def test_first_failure_cancels_the_other_downloads(
    server: ServerState, client: httpx.AsyncClient, tmp_path: FsPath
) -> None:
    targets = [("a", None, f"{server.base}/hang"), ("b", None, f"{server.base}/missing")]
    with pytest.raises(InputDownloadError, match="for input 'b'"):
        await asyncio.wait_for(
            download_inputs(targets, tmp_path, client=client, user_agent=None, max_bytes=10),
            timeout=3,  # well under the 5 s the hanging route would take
        )


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts requests as the client issues them, before any network IO."""

    def __init__(self) -> None:
        self.started = 0
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.started += 1
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_at_most_eight_downloads_run_at_once(server: ServerState, tmp_path: FsPath) -> None:
    transport = CountingTransport()
    targets = [("many", i, f"{server.base}/gate/{i}.txt") for i in range(12)]
    async with httpx.AsyncClient(transport=transport) as counted:
        running = asyncio.ensure_future(download(targets, tmp_path, counted))
        try:
            # Unlimited, all 12 would be issued long before 8 reach the server.
            assert await asyncio.to_thread(server.full.wait, 5)
            assert transport.started == files.MAX_PARALLEL_DOWNLOADS
        finally:
            server.gate.set()
        result = await running
    assert len(result) == 12 and transport.started == 12
    assert server.max_active == files.MAX_PARALLEL_DOWNLOADS


# -- File inputs from URLs -------------------------------------------------------


def test_url_file_connect_checks_the_status_then_streams(server: ServerState) -> None:
    """``connect`` is what the runtime calls before ``predict()``: status first, body on read."""
    good = URLFile(f"{server.base}/files/a.txt?sig=1", user_agent="cogrt-test/3")
    missing = URLFile(f"{server.base}/nowhere", user_agent="cogrt-test/3")
    try:
        good.connect()
        good.connect()  # a second call sends nothing
        assert server.user_agents == ["cogrt-test/3"]
        assert (good.name, good.read()) == ("a.txt", b"content of /files/a.txt")
        with pytest.raises(httpx.HTTPStatusError):
            missing.connect()
    finally:
        good.close()
        missing.close()
    assert good.closed and missing.closed


def test_a_url_file_closed_before_it_connects_refuses_to(server: ServerState) -> None:
    """A canceled prediction closes its files while a thread may still be connecting."""
    file = URLFile(f"{server.base}/files/a.txt")
    file.close()
    with pytest.raises(ValueError, match="closed file"):
        file.connect()
    assert server.user_agents == []  # nothing was sent
