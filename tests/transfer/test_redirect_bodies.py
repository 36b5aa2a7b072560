"""A redirect's body is never read: a hostile URL could send one without end.

The peer answers ``/redirect`` with a ``302`` whose chunked body never
finishes (it waits for the client to close), then serves ``/file``. httpx
reads a redirect's whole body before following it, so without the hooks of
:mod:`cogrt.redirects` every fetch below waits for that body until its read
timeout and fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path as FsPath

import pytest

from cogrt.sdk.types import URLFile
from cogrt.transfer.files import download_inputs
from cogrt.transfer.http_client import new_client

ENDLESS_REDIRECT = (
    b"HTTP/1.1 302 Found\r\nLocation: /file\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
)
FILE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
PEER_LIMIT = 60.0
"""Bounds how long the peer holds an unfinished redirect open."""


class EndlessRedirectPeer:
    """A loopback HTTP/1.1 peer: ``/redirect`` never ends its body, ``/file`` is ``hello``."""

    def __init__(self) -> None:
        self.url = ""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if head.startswith(b"GET /redirect "):
                writer.write(ENDLESS_REDIRECT)
                await writer.drain()
                # The body stays unfinished until the client gives up on the connection.
                await asyncio.wait_for(reader.read(), PEER_LIMIT)
            else:
                writer.write(FILE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def peer() -> AsyncIterator[EndlessRedirectPeer]:
    state = EndlessRedirectPeer()
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    state.url = f"http://127.0.0.1:{port}/redirect"
    async with server:
        yield state
        server.close()


async def test_a_download_follows_a_redirect_without_reading_its_body(
    peer: EndlessRedirectPeer, tmp_path: FsPath
) -> None:
    async with new_client(follow_redirects=True, timeout=30.0) as client:
        paths = await download_inputs(
            [("image", None, peer.url)], tmp_path, client=client, user_agent=None, max_bytes=100
        )
    assert paths[("image", None)].read_bytes() == b"hello"


async def test_a_file_input_follows_a_redirect_without_reading_its_body(
    peer: EndlessRedirectPeer,
) -> None:
    file = URLFile(peer.url)
    try:
        await asyncio.to_thread(file.connect)
        assert await asyncio.to_thread(file.read) == b"hello"
    finally:
        file.close()
