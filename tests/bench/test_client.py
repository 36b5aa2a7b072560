"""The raw HTTP/1.1 client against a scripted loopback server: framing, keep-alive, failures."""

from __future__ import annotations

import asyncio

import pytest

from cogrt.bench.client import build_request, open_connection
from cogrt.bench.pool import ConnectionPool
from cogrt.bench.sse_reader import SseReader
from cogrt.errors import HttpClientError

REQUEST = build_request("POST", "/predictions", "x", b'{"input":{}}')


async def test_content_length_bodies_keep_the_connection_alive(serve) -> None:
    port = await serve(
        [
            [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"],
            [b"HTTP/1.1 409 Conflict\r\ncontent-length: 3\r\n\r\n", b"b", b"us"],
        ]
    )
    connection = await open_connection("127.0.0.1", port)
    first = await connection.request(REQUEST)
    assert (first.status, first.body) == (200, b"hello")
    assert first.header("Content-Length") == b"5"
    assert connection.reusable
    second = await connection.request(REQUEST)
    assert (second.status, second.body) == (409, b"bus")
    connection.close()


async def test_chunked_body_split_anywhere(serve) -> None:
    port = await serve(
        [
            [
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab",
                b"cd\r\n3;ext=1\r\nefg\r",
                b"\n0\r\n",
                b"\r\n",
            ]
        ]
    )
    connection = await open_connection("127.0.0.1", port)
    response = await connection.request(REQUEST)
    assert response.body == b"abcdefg"
    assert connection.reusable
    connection.close()


async def test_close_delimited_body_and_connection_close(serve) -> None:
    port = await serve([[b"HTTP/1.1 200 OK\r\n\r\npartial ", b"body", b"<close>"]])
    connection = await open_connection("127.0.0.1", port)
    response = await connection.request(REQUEST)
    assert response.body == b"partial body"
    assert not connection.reusable
    port = await serve([[b"HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"]])
    connection = await open_connection("127.0.0.1", port)
    assert (await connection.request(REQUEST)).status == 503
    assert not connection.reusable
    with pytest.raises(HttpClientError, match="cannot take"):
        await connection.request(REQUEST)


async def test_server_closing_mid_response_is_an_error(serve) -> None:
    port = await serve([[b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort", b"<close>"]])
    connection = await open_connection("127.0.0.1", port)
    with pytest.raises(HttpClientError, match="closed by the server"):
        await connection.request(REQUEST)


async def test_garbage_is_an_error(serve) -> None:
    port = await serve([[b"SSH-2.0-OpenSSH\r\n\r\n"]])
    connection = await open_connection("127.0.0.1", port)
    with pytest.raises(HttpClientError, match="not an HTTP"):
        await connection.request(REQUEST)
    assert not connection.reusable


async def test_expire_fails_the_request_with_timeout(serve) -> None:
    port = await serve([[]])  # reads the request, never answers
    connection = await open_connection("127.0.0.1", port)
    future = connection.request(REQUEST)
    connection.expire()
    with pytest.raises(TimeoutError):
        await future
    assert not connection.reusable


async def test_streamed_body_reaches_the_callback_as_events(serve) -> None:
    def chunk(data: bytes) -> bytes:
        return b"%x\r\n%s\r\n" % (len(data), data)

    split = chunk(b'event: output\ndata: {"chunk":2}\n\n')
    frames = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        chunk(b'event: start\ndata: {"a":1}\n\n'),
        chunk(b'event: output\ndata: {"chunk":1}\n\n'),
        split[:9],
        split[9:],
        chunk(b'event: completed\ndata: {"status":"succeeded","x":1}\n\n') + b"0\r\n\r\n",
    ]
    port = await serve([frames])
    connection = await open_connection("127.0.0.1", port)
    reader = SseReader()
    response = await connection.request(REQUEST, reader)
    assert response.body == b""
    assert reader.chunks == 2 and reader.status == "succeeded"
    assert reader.first_at is not None and reader.last_at >= reader.first_at


def test_sse_reader_handles_any_split() -> None:
    stream = (
        b"event: output\ndata: 1\n\n: keep-alive\n\nevent: output\r\ndata: 2\r\n\r\n"
        b'event: completed\ndata: {"status": "failed"}\n\n'
    )
    for cut in range(1, len(stream)):
        reader = SseReader()
        reader(stream[:cut])
        reader(stream[cut:])
        assert (reader.chunks, reader.status) == (2, "failed"), cut


async def test_pool_reuses_and_limits_connections(serve) -> None:
    answer = [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]
    port = await serve([answer] * 10)
    pool = ConnectionPool("127.0.0.1", port, limit=1)
    first = await pool.acquire()
    waiting = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0)
    assert not waiting.done()  # at the limit: the second request waits
    await first.request(REQUEST)
    pool.release(first)
    assert await waiting is first  # handed over, not a new connection
    pool.release(first)
    assert pool.idle() is first and pool.opened == 1
    first.close()
    pool.release(first)  # a closed one frees its place: the next acquire opens anew
    again = await pool.acquire()
    assert again is not first and pool.opened == 2
    pool.close()
