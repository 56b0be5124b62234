"""The lean upstream client against raw sockets: framing, keep-alive, stale connections, deadlines."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest
import uvloop

from router.upstream import (
    ConnectionPool,
    FirstByteTimeout,
    IdleTimeout,
    Timeouts,
    UpstreamConnectError,
    UpstreamProtocolError,
    UpstreamTimeout,
    exchange,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
TIMEOUTS = Timeouts(connect=2.0, first_byte=5.0, idle=5.0)
REQUEST = b"GET /x HTTP/1.1\r\nhost: t\r\ncontent-length: 0\r\n\r\n"


def run(coro: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop, as the router does, with a generous overall bound."""

    async def bounded() -> None:
        async with asyncio.timeout(20):
            await coro

    uvloop.run(bounded())


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
    return head


async def start(handler: Handler) -> tuple[asyncio.Server, ConnectionPool, list[int]]:
    """A server on a free port, a pool aimed at it, and a list counting the connections it accepted."""
    accepted: list[int] = []

    async def counted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(counted, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, ConnectionPool("127.0.0.1", port, connect_timeout=2.0), accepted


async def read_all(pool: ConnectionPool, timeouts: Timeouts = TIMEOUTS) -> tuple[int, list[bytes]]:
    upstream = await exchange(pool, REQUEST, timeouts)
    parts = []
    while chunk := await upstream.read():
        parts.append(chunk)
    upstream.close()
    return upstream.status, parts


def test_chunked_bodies_are_decoded_and_connections_reused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: application/x-ndjson\r\n\r\n")
            for line in (b'{"n":1}\n', b'{"n":2}\n'):
                writer.write(b"%x\r\n%s\r\n" % (len(line), line))
                await writer.drain()
                await asyncio.sleep(0.01)
            writer.write(b"0\r\n\r\n")

    async def main() -> None:
        server, pool, accepted = await start(handler)
        for _ in range(3):
            status, parts = await read_all(pool)
            assert status == 200
            assert b"".join(parts) == b'{"n":1}\n{"n":2}\n'
        assert len(accepted) == 1, "one keep-alive connection serves every request"
        assert pool.idle_count == 1
        await pool.aclose()
        server.close()

    run(main())


def test_a_reused_connection_closed_before_answering_is_retried_on_a_fresh_one() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        await read_request(reader)
        writer.transport.abort()

    async def main() -> None:
        server, pool, accepted = await start(handler)
        assert (await read_all(pool))[0] == 200
        assert (await read_all(pool))[0] == 200
        assert len(accepted) == 2, "the second request moved to a fresh connection"
        await pool.aclose()
        server.close()

    run(main())


def test_an_idle_connection_the_backend_closed_is_not_reused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()

    async def main() -> None:
        server, pool, accepted = await start(handler)
        assert (await read_all(pool))[0] == 200
        await asyncio.sleep(0.1)
        assert (await read_all(pool))[0] == 200
        assert len(accepted) == 2
        await pool.aclose()
        server.close()

    run(main())


def test_a_body_read_until_close_is_complete() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nall of it")
        await writer.drain()

    async def main() -> None:
        server, pool, _ = await start(handler)
        status, parts = await read_all(pool)
        assert (status, b"".join(parts)) == (200, b"all of it")
        assert pool.idle_count == 0
        server.close()

    run(main())


def test_large_bodies_survive_a_slow_reader() -> None:
    payload = bytes(range(256)) * 8192

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(payload) + payload)
        await writer.drain()

    async def main() -> None:
        server, pool, _ = await start(handler)
        upstream = await exchange(pool, REQUEST, TIMEOUTS)
        received = bytearray()
        while chunk := await upstream.read():
            received += chunk
            await asyncio.sleep(0.001)
        upstream.close()
        assert bytes(received) == payload
        await pool.aclose()
        server.close()

    run(main())


@pytest.mark.parametrize(("phase", "kind"), [("first byte", FirstByteTimeout), ("idle", IdleTimeout)])
def test_deadlines(phase: str, kind: type[UpstreamTimeout]) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        if phase == "idle":
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n")
            await writer.drain()
        await asyncio.sleep(30)

    async def main() -> None:
        server, pool, _ = await start(handler)
        with pytest.raises(UpstreamTimeout) as caught:
            await read_all(pool, Timeouts(connect=2.0, first_byte=0.2, idle=0.2))
        assert caught.value.phase == phase and type(caught.value) is kind
        assert caught.value.status == 504 and caught.value.reason == "timeout"
        assert pool.idle_count == 0 and pool.lent_count in (0, 1)
        await pool.aclose()
        server.close()

    run(main())


def test_a_backend_that_dies_mid_body_is_a_protocol_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
        await writer.drain()
        writer.transport.abort()

    async def main() -> None:
        server, pool, _ = await start(handler)
        with pytest.raises(UpstreamProtocolError, match="during the response body"):
            await read_all(pool)
        server.close()

    run(main())


def test_garbage_is_a_protocol_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1)

    async def main() -> None:
        server, pool, _ = await start(handler)
        with pytest.raises(UpstreamProtocolError, match="invalid HTTP response"):
            await read_all(pool)
        server.close()

    run(main())


def test_a_refused_connection_is_a_connect_error() -> None:
    async def main() -> None:
        async def ignore(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_request(reader)

        server, pool, _ = await start(ignore)
        server.close()
        await server.wait_closed()
        with pytest.raises(UpstreamConnectError, match="cannot connect"):
            await read_all(pool)

    run(main())
