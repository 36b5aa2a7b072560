"""File outputs as data URIs (§10.4), downloads of file inputs (§8.4), and ``URLFile``.

Downloads talk to a real HTTP server on a 127.0.0.1:0 socket in a thread
(``tests.support.download_server``); every wait on it is bounded.
"""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path as FsPath
from typing import Any

import httpx
import pytest

from cogrt.errors import InputDownloadError
from cogrt.sdk.types import Path, URLFile
from cogrt.transfer import files
from cogrt.transfer.files import download_inputs, file_to_data_uri
from tests.support.download_server import ServerState, serving_downloads

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


@pytest.fixture
def server() -> Iterator[ServerState]:
    with serving_downloads() as state:
        yield state


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
