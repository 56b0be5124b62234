"""One request/response cycle on an upstream connection: the response head, the body queue, the deadlines.

Like uvicorn's ``RequestResponseCycle``, a cycle lives for one request and is replaced by the next on a
kept-alive connection. It owns its httptools response parser, which calls it back with the status,
headers and each *decoded* body chunk (chunked transfer encoding is undone by the parser). Chunks are
queued as they arrive and the reading coroutine takes everything queued in one go, so a streamed answer
costs one list append and one future per network read, and nothing per line.

Deadlines cost nothing per chunk either: the connection records the time of each read, and a single
timer per cycle fires at ``last activity + deadline``, re-arming itself while data keeps flowing. Before
the response head the deadline is the (long) first-byte timeout, for cold model loads; after it, the
(bounded) idle timeout between chunks. There is no total deadline: a long answer is not an error.
"""

from __future__ import annotations

import asyncio

import httptools

from router.upstream.errors import (
    FirstByteTimeout,
    IdleTimeout,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamTimeout,
)
from router.upstream.flow import HIGH_WATER, FlowControl


class ResponseCycle:
    """One response as it arrives; :meth:`read` is the relay's per-chunk path."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, flow: FlowControl, *, head_only: bool, first_byte: float, idle: float
    ) -> None:
        self._loop = loop
        self._flow = flow
        self.parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.keep_alive = False
        self.received_any = False
        self.complete = False
        self.error: UpstreamError | None = None
        self.last_activity = loop.time()
        self._head_only = head_only
        self._head_done = False
        self._until_close = False
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._phase: type[UpstreamTimeout] = FirstByteTimeout
        self._span = first_byte
        self._idle = idle

    async def read_head(self) -> None:
        """Wait for the status line and headers (``status`` and ``headers`` are then set)."""
        while not self._head_done:
            if self.error is not None:
                raise self.error
            waiter = self._loop.create_future()
            self._waiter = waiter
            self._arm()
            await waiter

    async def read(self) -> bytes:
        """Everything received since the last call, ``b""`` once the response is complete.

        Queued chunks are returned without suspending; only an empty queue costs a future. The wait is
        written out here rather than shared with :meth:`read_head` because this is the per-chunk path.
        """
        while True:
            chunks = self._chunks
            if chunks:
                data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                self._chunks = []
                self._buffered = 0
                if self._flow.read_paused:
                    self._flow.resume_reading()
                return data
            if self.complete:
                return b""
            if self.error is not None:
                raise self.error
            waiter = self._loop.create_future()
            self._waiter = waiter
            if self._timer is None:
                self._timer = self._loop.call_at(self.last_activity + self._span, self._on_timer)
            await waiter

    def closed(self) -> None:
        """The socket closed: a body read until close is complete, anything else unfinished fails."""
        if self._head_done and self._until_close and self.error is None:
            self.complete = True
        if not self.complete:
            phase = "response head" if not self._head_done else "response body"
            self.fail(UpstreamProtocolError(f"the backend closed the connection during the {phase}"))
        self._wake()

    # -- httptools callbacks ---------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        """Collect one header, name lower-cased as ASGI wants it."""
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        """The head is in: switch from the first-byte deadline to the idle deadline."""
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()
        self._head_done = True
        self._until_close = self.status not in (204, 304) and not any(
            name in (b"content-length", b"transfer-encoding") for name, _ in self.headers
        )
        if self._head_only:
            self.complete = True
            self.keep_alive = False
        self._phase, self._span = IdleTimeout, self._idle
        self.cancel_timer()
        self._wake()

    def on_body(self, body: bytes) -> None:
        """Queue a decoded body chunk; stop reading the socket while the queue is too long."""
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > HIGH_WATER:
            self._flow.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        """The response ended as HTTP framed it."""
        self.complete = True
        self._wake()

    # -- waiting with a deadline -----------------------------------------------------------------

    def _arm(self) -> None:
        if self._timer is None:
            self._timer = self._loop.call_at(self.last_activity + self._span, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self._waiter is None or self.complete or self.error is not None:
            return
        due = self.last_activity + self._span
        if self._loop.time() < due:
            self._timer = self._loop.call_at(due, self._on_timer)
            return
        self.fail(self._phase(self._span))
        transport = self._flow.transport
        if transport is not None:
            transport.abort()

    def cancel_timer(self) -> None:
        """No deadline runs any more (the head arrived, the cycle failed, or the connection is parked)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def fail(self, error: UpstreamError) -> None:
        """End the cycle with ``error`` (unless it already completed); pending reads raise it."""
        if self.error is None and not self.complete:
            self.error = error
        self.cancel_timer()
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def park(self) -> None:
        """The connection went back to the idle stack: no deadline runs while idle."""
        self.cancel_timer()
        self._waiter = None
