"""A minimal HTTP/1.1 client for the load generator: one keep-alive connection, one request at a time.

Not httpx: the load generator shares a CPU with the sims, and a heavy client would make every target look
the same. This is an ``asyncio.Protocol`` fed by httptools' response parser (which undoes chunked
framing). Per network read it takes one clock reading and, when asked to, records the arrival time of
each complete line (``\\n``) in the body, which is what per-line lateness and time to first line need.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from itertools import repeat

import httptools

CLOCK = time.perf_counter


class ClientError(Exception):
    """The connection failed or closed before the response was complete."""


@dataclass(slots=True)
class Reply:
    """One response as received: status, body, and when things arrived (``CLOCK`` seconds)."""

    status: int = 0
    body: bytes = b""
    sent: float = 0.0
    first_line: float = 0.0
    line_times: list[float] = field(default_factory=list)


class Connection(asyncio.Protocol):
    """A client connection to ``127.0.0.1:port``; use :func:`connect`, then :meth:`request` repeatedly."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[Reply] | None = None
        self._reply = Reply()
        self._chunks: list[bytes] = []
        self._record = False
        self._now = 0.0
        self.closed = False
        self.keep_alive = True

    async def request(self, data: bytes, *, record_lines: bool = False) -> Reply:
        """Send a complete request (head and body) and wait for the complete response."""
        if self._transport is None or self.closed:
            raise ClientError("connection closed")
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        self._reply = Reply(sent=CLOCK())
        self._chunks = []
        self._record = record_lines
        self._transport.write(data)
        return await self._waiter

    def close(self) -> None:
        """Close the connection."""
        self.closed = True
        if self._transport is not None:
            self._transport.close()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport."""
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        """Time the read, then parse it."""
        self._now = CLOCK()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ClientError(f"bad HTTP response: {error}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        """A response still being read has failed."""
        self.closed = True
        self._fail(ClientError(f"connection lost: {exc or 'closed by peer'}"))

    # httptools callbacks

    def on_headers_complete(self) -> None:
        """The status is known."""
        self._reply.status = self._parser.get_status_code()
        self.keep_alive = self._parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        """Keep the bytes; note when lines completed."""
        self._chunks.append(body)
        reply = self._reply
        if not reply.first_line and b"\n" in body:
            reply.first_line = self._now
        if self._record:
            reply.line_times.extend(repeat(self._now, body.count(b"\n")))

    def on_message_complete(self) -> None:
        """The response is complete."""
        reply = self._reply
        reply.body = b"".join(self._chunks)
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(reply)
        if not self.keep_alive:
            self.close()

    def _fail(self, error: ClientError) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)


async def connect(port: int) -> Connection:
    """A new connection to ``127.0.0.1:port``."""
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(Connection, "127.0.0.1", port)
    return conn


def build_request(
    method: str, path: str, port: int, body: bytes = b"", content_type: str = "application/json"
) -> bytes:
    """A complete HTTP/1.1 request as Ollama's clients send it, ``Host`` naming the target."""
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "User-Agent: fleet-bench", "Accept: */*"]
    if body or method in ("POST", "PUT"):
        head += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body
