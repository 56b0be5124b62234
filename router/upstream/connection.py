"""One keep-alive HTTP/1.1 connection to a backend, as an asyncio Protocol parsed by httptools.

The event loop calls :meth:`UpstreamConnection.data_received`; httptools calls back with the status,
headers and each *decoded* body chunk (chunked transfer encoding is undone by the parser). Chunks are
queued as they arrive and the reading coroutine takes everything queued in one go, so a streamed answer
costs one list append and one future per network read, and nothing per line.

Deadlines cost nothing per chunk either: ``data_received`` records the time, and a single timer per
connection fires at ``last activity + deadline``, re-arming itself while data keeps flowing. Before the
response head the deadline is the (long) first-byte timeout, for cold model loads; after it, the
(bounded) idle timeout between chunks. There is no total deadline: a long answer is not an error.

A slow client must not make the router buffer a fast backend's answer without bound: past
:data:`HIGH_WATER` queued bytes the connection stops reading the socket until the reader catches up.
"""

from __future__ import annotations

import asyncio
from typing import cast

import httptools

from router.upstream.errors import FirstByteTimeout, IdleTimeout, UpstreamError, UpstreamProtocolError, UpstreamTimeout

HIGH_WATER = 256 * 1024
"""Queued body bytes past which the socket is no longer read until the consumer drains the queue."""


class UpstreamConnection(asyncio.Protocol):
    """A connection that carries one request at a time and reports the response as it arrives."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self._write_paused = False
        self._drain: asyncio.Future[None] | None = None
        self._reset(head_only=False, first_byte=0.0, idle=0.0)

    def _reset(self, *, head_only: bool, first_byte: float, idle: float) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.keep_alive = False
        self.received_any = False
        self._head_only = head_only
        self._head_done = False
        self._complete = False
        self._until_close = False
        self._error: UpstreamError | None = None
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._read_paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._phase: type[UpstreamTimeout] = FirstByteTimeout
        self._span = first_byte
        self._idle = idle
        self._last_activity = self._loop.time()

    # -- the request side ------------------------------------------------------------------------

    def start(self, data: bytes, *, head_only: bool, first_byte: float, idle: float) -> None:
        """Send a request (head, and body when it is not streamed) and arm the first-byte deadline."""
        self._cancel_timer()
        self._reset(head_only=head_only, first_byte=first_byte, idle=idle)
        self._write(data)

    async def write(self, data: bytes) -> None:
        """Send part of a streamed request body, waiting while the socket's buffer is full."""
        self._write(data)
        if self._write_paused and not self.closed:
            self._drain = self._loop.create_future()
            await self._drain
        if self._error is not None:
            raise self._error

    def _write(self, data: bytes) -> None:
        if self.transport is None or self.closed:
            raise UpstreamProtocolError("the connection closed before the request was sent")
        self.transport.write(data)
        self._last_activity = self._loop.time()

    def pause_writing(self) -> None:
        """The socket's send buffer is full (asyncio flow control)."""
        self._write_paused = True

    def resume_writing(self) -> None:
        """The socket's send buffer drained."""
        self._write_paused = False
        self._release_drain()

    def _release_drain(self) -> None:
        drain, self._drain = self._drain, None
        if drain is not None and not drain.done():
            drain.set_result(None)

    # -- the response side -----------------------------------------------------------------------

    async def read_head(self) -> None:
        """Wait for the status line and headers (``status`` and ``headers`` are then set)."""
        while not self._head_done:
            if self._error is not None:
                raise self._error
            await self._wait()

    async def read(self) -> bytes:
        """Everything received since the last call, ``b""`` once the response is complete.

        Queued chunks are returned without suspending; only an empty queue costs a future (the wait
        of :meth:`_wait`, inlined here because this is the relay's per-chunk path).
        """
        while True:
            chunks = self._chunks
            if chunks:
                data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                self._chunks = []
                self._buffered = 0
                if self._read_paused:
                    self._read_paused = False
                    if self.transport is not None:
                        self.transport.resume_reading()
                return data
            if self._complete:
                return b""
            if self._error is not None:
                raise self._error
            waiter = self._loop.create_future()
            self._waiter = waiter
            if self._timer is None:
                self._timer = self._loop.call_at(self._last_activity + self._span, self._on_timer)
            await waiter

    def now(self) -> float:
        """The event loop's clock (no ``get_running_loop()``, which costs a ``getpid()`` on Python 3.11)."""
        return self._loop.time()

    @property
    def reusable(self) -> bool:
        """Whether the response ended cleanly and the backend allows another request on it."""
        return self._complete and self.keep_alive and not self.closed and self._error is None

    def abort(self) -> None:
        """Drop the connection at once (the backend sees a reset); pending reads fail."""
        if self.transport is not None and not self.closed:
            self.transport.abort()
        self.closed = True
        self._fail(UpstreamProtocolError("the request was abandoned"))

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport (a TCP stream transport; uvloop's does not subclass asyncio's)."""
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        """Feed the parser; its callbacks below queue the decoded response."""
        self._last_activity = self._loop.time()
        self.received_any = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(UpstreamProtocolError(f"invalid HTTP response from the backend: {error}"))
            if self.transport is not None:
                self.transport.abort()

    def eof_received(self) -> bool | None:
        """Let the transport close; :meth:`connection_lost` decides whether the response ended."""
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        """The socket closed: a body read until close is complete, anything else unfinished fails."""
        self.closed = True
        if self._head_done and self._until_close and self._error is None:
            self._complete = True
        if not self._complete:
            phase = "response head" if not self._head_done else "response body"
            self._fail(UpstreamProtocolError(f"the backend closed the connection during the {phase}"))
        self._release_drain()
        self._wake()

    # -- httptools callbacks ---------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        """Collect one header, name lower-cased as ASGI wants it."""
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        """The head is in: switch from the first-byte deadline to the idle deadline."""
        self.status = self._parser.get_status_code()
        self.keep_alive = self._parser.should_keep_alive()
        self._head_done = True
        self._until_close = self.status not in (204, 304) and not any(
            name in (b"content-length", b"transfer-encoding") for name, _ in self.headers
        )
        if self._head_only:
            self._complete = True
            self.keep_alive = False
        self._phase, self._span = IdleTimeout, self._idle
        self._cancel_timer()
        self._wake()

    def on_body(self, body: bytes) -> None:
        """Queue a decoded body chunk; stop reading the socket while the queue is too long."""
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER and not self._read_paused and self.transport is not None:
            self._read_paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        """The response ended as HTTP framed it."""
        self._complete = True
        self._wake()

    # -- waiting with a deadline -----------------------------------------------------------------

    async def _wait(self) -> None:
        waiter = self._loop.create_future()
        self._waiter = waiter
        if self._timer is None:
            self._timer = self._loop.call_at(self._last_activity + self._span, self._on_timer)
        await waiter

    def _on_timer(self) -> None:
        self._timer = None
        if self._waiter is None or self._complete or self._error is not None:
            return
        due = self._last_activity + self._span
        if self._loop.time() < due:
            self._timer = self._loop.call_at(due, self._on_timer)
            return
        self._fail(self._phase(self._span))
        if self.transport is not None:
            self.transport.abort()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fail(self, error: UpstreamError) -> None:
        if self._error is None and not self._complete:
            self._error = error
        self._cancel_timer()
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def park(self) -> None:
        """Called when the connection goes back to the idle stack: no deadline runs while idle."""
        self._cancel_timer()
        self._waiter = None
