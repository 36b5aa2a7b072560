"""A scripted loopback HTTP server for the client tests: answers written as given."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + await reader.readexactly(length)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[list[list[bytes]]], asyncio.Future[int]]]:
    """A server answering each request on a connection with the next scripted answer.

    An answer is a list of byte strings written one by one (with a drain between
    them, so the client sees them in separate reads); ``b"<close>"`` closes.
    """
    servers: list[asyncio.Server] = []

    async def start(answers: list[list[bytes]]) -> int:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                for answer in answers:
                    await _read_request(reader)
                    for part in answer:
                        if part == b"<close>":
                            writer.close()
                            return
                        writer.write(part)
                        await writer.drain()
                        await asyncio.sleep(0)
                await reader.read()  # until the client closes
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield start  # type: ignore[misc]
    for server in servers:
        server.close()
