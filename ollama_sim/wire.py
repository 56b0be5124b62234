"""Response values and their HTTP/1.1 framing, precomputed so the hot path only concatenates bytes.

A handler returns a :class:`Fixed` (sent with ``Content-Length``, like Go for a body written at once) or a
:class:`Stream` (``Transfer-Encoding: chunked``, one chunk per NDJSON line or SSE event, like Ollama's
per-token flush). Both are immutable, so identical requests can share one cached value, and a stream's
chunk framing is computed once per value rather than once per line sent.
"""

from __future__ import annotations

from functools import lru_cache
from http import HTTPStatus

Headers = tuple[tuple[str, str], ...]

JSON = "application/json; charset=utf-8"
"""gin's ``c.JSON`` content type (gin's ``binding.MIMEJSON`` render)."""
PLAIN_JSON = "application/json"
"""Set explicitly by ``waitForStream`` and by the OpenAI writers."""
NDJSON = "application/x-ndjson"
SSE = "text/event-stream"
TEXT = "text/plain; charset=utf-8"
GIN_TEXT = "text/plain"
"""gin's own 404/405 bodies use a bare ``text/plain``."""
HTML = "text/html; charset=utf-8"

LAST_CHUNK = b"0\r\n\r\n"


class Fixed:
    """A complete response: status, content type (``None`` for none), body, extra headers."""

    __slots__ = ("body", "content_type", "headers", "status")

    def __init__(self, status: int, content_type: str | None, body: bytes, headers: Headers = ()) -> None:
        self.status = status
        self.content_type = content_type
        self.body = body
        self.headers = headers


class Stream:
    """A 200 response written line by line.

    Attributes:
        content_type: ``application/x-ndjson`` or ``text/event-stream``.
        lines: the payloads, each written with its own ``transport.write``.
        paced: whether the simulator's ``token_rate`` spaces the lines (token streams), or not (progress).
        headers: extra response headers.
    """

    __slots__ = ("_chunked", "content_type", "headers", "lines", "paced")

    def __init__(self, content_type: str, lines: tuple[bytes, ...], paced: bool, headers: Headers = ()) -> None:
        self.content_type = content_type
        self.lines = lines
        self.paced = paced
        self.headers = headers
        self._chunked: tuple[bytes, ...] | None = None

    @property
    def chunked(self) -> tuple[bytes, ...]:
        """The lines framed as HTTP/1.1 chunks; the last one also carries the terminating chunk."""
        if self._chunked is None:
            framed = [b"%x\r\n%s\r\n" % (len(line), line) for line in self.lines]
            framed[-1] += LAST_CHUNK
            self._chunked = tuple(framed)
        return self._chunked


Response = Fixed | Stream


def reason(status: int) -> str:
    """The reason phrase Go writes (``status code 499`` for codes without a standard name)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"status code {status}"


@lru_cache(maxsize=1024)
def fixed_head(
    status: int, content_type: str | None, length: int, *, headers: Headers, closing: bool, http10: bool
) -> bytes:
    """Status line and headers of a :class:`Fixed` response, ``Content-Length`` included."""
    lines = [f"HTTP/1.{0 if http10 else 1} {status} {reason(status)}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    if status not in (204, 304) and not 100 <= status < 200:
        lines.append(f"Content-Length: {length}")
    if closing:
        lines.append("Connection: close")
    elif http10:
        lines.append("Connection: keep-alive")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@lru_cache(maxsize=256)
def stream_head(content_type: str, headers: Headers, http10: bool) -> bytes:
    """Status line and headers of a :class:`Stream`: chunked for HTTP/1.1, close-delimited for 1.0."""
    lines = [f"HTTP/1.{0 if http10 else 1} 200 OK"]
    lines += [f"{name}: {value}" for name, value in headers if name != "Connection" or not http10]
    lines.append(f"Content-Type: {content_type}")
    lines.append("Connection: close" if http10 else "Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
