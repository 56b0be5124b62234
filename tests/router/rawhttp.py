"""A minimal asyncio HTTP/1.1 client for tests that open hundreds of streams at once.

httpx costs ~100 µs of CPU per streamed line and the router, the simulated backends and the client all
share one process (and one GIL) in these tests, so the load test uses this instead: one connection per
request (``Connection: close``), the response decoded by httptools (chunked framing included), and the
body kept as the exact bytes the router sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httptools


@dataclass
class Fetched:
    """One response: status, headers (names lower-cased), the decoded body, and whether it ended cleanly."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    complete: bool = False


class _Parser:
    """httptools callbacks filling a :class:`Fetched`."""

    def __init__(self, fetched: Fetched) -> None:
        self.fetched = fetched
        self.parser = httptools.HttpResponseParser(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.fetched.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.fetched.status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self.fetched.body += body

    def on_message_complete(self) -> None:
        self.fetched.complete = True


async def fetch(url: str, path: str, body: bytes, *, method: str = "POST") -> Fetched:
    """Send one request with ``body`` to ``url`` (``http://host:port``) and read the whole response."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    fetched = Fetched()
    parser = _Parser(fetched)
    head = (
        f"{method} {path} HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode()
    try:
        writer.write(head + body)
        while not fetched.complete and (data := await reader.read(65536)):
            parser.parser.feed_data(data)
    finally:
        writer.close()
    return fetched


async def send_raw(url: str, data: bytes) -> Fetched:
    """Write ``data`` exactly as given (request line, headers, body) and read one response."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    fetched = Fetched()
    parser = _Parser(fetched)
    try:
        writer.write(data)
        while not fetched.complete and (chunk := await reader.read(65536)):
            parser.parser.feed_data(chunk)
    finally:
        writer.close()
    return fetched


def raw(url: str, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b"") -> Fetched:
    """One request with exactly ``headers`` (repeats kept, no Host added), ``Connection: close`` and a length."""
    lines = [f"{method} {path} HTTP/1.1", *(f"{name}: {value}" for name, value in headers)]
    lines += [f"content-length: {len(body)}", "connection: close"]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return asyncio.run(send_raw(url, head + body))
