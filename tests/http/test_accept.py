"""BatchAcceptLoop: every waiting connection is accepted at once, served by uvloop transports."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable, Coroutine
from typing import Any, cast

import pytest
import uvloop

from cogrt.http.accept import BatchAcceptLoop, BatchAcceptServer


class Echo(asyncio.Protocol):
    """Records its transport and sends back what it receives."""

    def __init__(self, made: list[asyncio.Transport]) -> None:
        self.made = made

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)  # uvloop's TCPTransport
        self.made.append(self.transport)

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)


def listening() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def connect(sock: socket.socket, count: int) -> list[socket.socket]:
    """``count`` clients, connected (waiting in the accept queue) before the server runs."""
    return [socket.create_connection(sock.getsockname()[:2], timeout=10) for _ in range(count)]


async def turns_until(done: Callable[[], bool], limit: int) -> bool:
    """Give the loop up to ``limit`` turns for ``done`` to become true."""
    for _ in range(limit):
        if done():
            return True
        await asyncio.sleep(0)
    return done()


def run(main: Coroutine[Any, Any, None]) -> None:
    uvloop.run(main, loop_factory=BatchAcceptLoop)


async def echo(client: socket.socket, data: bytes) -> bytes:
    """Send ``data`` from a client socket and read the echo (in a thread: the loop serves)."""

    def exchange() -> bytes:
        client.sendall(data)
        return client.recv(len(data))

    return await asyncio.to_thread(exchange)


def test_all_waiting_connections_are_accepted_within_a_few_turns() -> None:
    """Plain uvloop accepts one connection per turn: 50 would take 50 turns."""

    async def main() -> None:
        sock = listening()
        clients = connect(sock, 50)
        made: list[asyncio.Transport] = []
        server = await asyncio.get_running_loop().create_server(
            lambda: Echo(made), sock=sock, backlog=128
        )
        assert isinstance(server, BatchAcceptServer)
        assert await turns_until(lambda: len(made) == 50, 10), len(made)
        assert [await echo(client, b"ping") for client in clients[:3]] == [b"ping"] * 3
        server.close()
        await server.wait_closed()
        for client in clients:
            client.close()

    run(main())


def test_close_stops_accepting_and_keeps_accepted_connections() -> None:
    async def main() -> None:
        sock = listening()
        address = sock.getsockname()[:2]
        made: list[asyncio.Transport] = []
        server = await asyncio.get_running_loop().create_server(lambda: Echo(made), sock=sock)
        assert server.is_serving() and server.sockets == (sock,)
        (client,) = connect(sock, 1)
        assert await turns_until(lambda: len(made) == 1, 10)
        server.close()
        await server.wait_closed()
        assert not server.is_serving() and server.sockets == ()
        assert sock.fileno() == -1
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(address, timeout=10)
        assert await echo(client, b"still here") == b"still here"
        client.close()

    run(main())


def test_servers_on_a_host_and_port_are_uvloops_own() -> None:
    async def main() -> None:
        made: list[asyncio.Transport] = []
        server = await asyncio.get_running_loop().create_server(lambda: Echo(made), "127.0.0.1", 0)
        assert not isinstance(server, BatchAcceptServer)
        (client,) = connect(server.sockets[0], 1)
        assert await turns_until(lambda: len(made) == 1, 100)
        server.close()
        client.close()

    run(main())


OUT_OF_DESCRIPTORS = textwrap.dedent(
    """
    import asyncio, logging, os, resource, socket, sys, uvloop
    from cogrt.http.accept import BatchAcceptLoop

    class Protocol(asyncio.Protocol):
        def connection_made(self, transport):
            made.append(transport)

    warnings = []

    class Record(logging.Handler):
        def emit(self, record):
            warnings.append(record.getMessage())

    logging.getLogger("cogrt.server").addHandler(Record())
    made = []

    async def main():
        loop = asyncio.get_running_loop()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        clients = [socket.create_connection(sock.getsockname()) for _ in range(10)]
        spare = len(os.listdir("/proc/self/fd")) + 4
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (spare, hard))
        server = await loop.create_server(Protocol, sock=sock)
        for _ in range(200):
            if warnings:
                break
            await asyncio.sleep(0.01)
        accepted = len(made)
        for transport in made:
            transport.close()
        for client in clients[:accepted]:
            client.close()
        for _ in range(1000):
            if len(made) == 10:
                break
            await asyncio.sleep(0.01)
        server.close()
        print(accepted, len(made), warnings[0] if warnings else "no warning")

    uvloop.run(main(), loop_factory=BatchAcceptLoop)
    """
)


def test_out_of_descriptors_pauses_accepting_then_resumes() -> None:
    """EMFILE: the server logs, stops accepting for a second, then takes the rest."""
    done = subprocess.run(
        [sys.executable, "-c", OUT_OF_DESCRIPTORS], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    accepted, total, warning = done.stdout.split(maxsplit=2)
    assert 0 < int(accepted) < 10
    assert int(total) == 10
    assert warning.startswith("not accepting connections for 1 s"), warning
