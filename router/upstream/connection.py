"""One keep-alive HTTP/1.1 connection to a backend, as an asyncio Protocol.

The connection owns the transport and its :class:`~router.upstream.flow.FlowControl`; each request on it
is a :class:`~router.upstream.cycle.ResponseCycle`, replaced by the next one when the connection is
reused (uvicorn splits its server side the same way: ``HttpToolsProtocol``, ``RequestResponseCycle``,
``FlowControl``). :meth:`UpstreamConnection.data_received` feeds the current cycle's parser directly,
so a network read costs no call beyond the parser's own callbacks.
"""

from __future__ import annotations

import asyncio
from typing import cast

import httptools

from router.upstream.cycle import ResponseCycle
from router.upstream.errors import UpstreamProtocolError
from router.upstream.flow import FlowControl


class UpstreamConnection(asyncio.Protocol):
    """A connection that carries one request at a time and reports the response as it arrives."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.flow = FlowControl(loop)
        self.closed = False
        self.idle_since = 0.0
        self.cycle = ResponseCycle(loop, self.flow, head_only=False, first_byte=0.0, idle=0.0)

    def start(self, data: bytes, *, head_only: bool, first_byte: float, idle: float) -> ResponseCycle:
        """Send a request (head, and body when it is not streamed); its cycle arms the first-byte deadline."""
        self.cycle.cancel_timer()
        self.flow.resume_reading()
        cycle = ResponseCycle(self._loop, self.flow, head_only=head_only, first_byte=first_byte, idle=idle)
        self.cycle = cycle
        self._write(data)
        return cycle

    async def write(self, data: bytes) -> None:
        """Send part of a streamed request body, waiting while the socket's buffer is full."""
        self._write(data)
        await self.flow.drain(self.closed)
        if self.cycle.error is not None:
            raise self.cycle.error

    def _write(self, data: bytes) -> None:
        transport = self.flow.transport
        if transport is None or self.closed:
            raise UpstreamProtocolError("the connection closed before the request was sent")
        transport.write(data)
        self.cycle.last_activity = self._loop.time()

    def now(self) -> float:
        """The event loop's clock (no ``get_running_loop()``, which costs a ``getpid()`` on Python 3.11)."""
        return self._loop.time()

    @property
    def reusable(self) -> bool:
        """Whether the response ended cleanly and the backend allows another request on it."""
        cycle = self.cycle
        return cycle.complete and cycle.keep_alive and not self.closed and cycle.error is None

    def abort(self) -> None:
        """Drop the connection at once (the backend sees a reset); pending reads fail."""
        transport = self.flow.transport
        if transport is not None and not self.closed:
            transport.abort()
        self.closed = True
        self.cycle.fail(UpstreamProtocolError("the request was abandoned"))

    def park(self) -> None:
        """Called when the connection goes back to the idle stack: no deadline runs while idle."""
        self.cycle.park()

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport (a TCP stream transport; uvloop's does not subclass asyncio's)."""
        self.flow.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        """Feed the current cycle's parser; its callbacks queue the decoded response."""
        cycle = self.cycle
        cycle.last_activity = self._loop.time()
        cycle.received_any = True
        try:
            cycle.parser.feed_data(data)
        except httptools.HttpParserError as error:
            cycle.fail(UpstreamProtocolError(f"invalid HTTP response from the backend: {error}"))
            if self.flow.transport is not None:
                self.flow.transport.abort()

    def eof_received(self) -> bool | None:
        """Let the transport close; :meth:`connection_lost` decides whether the response ended."""
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        """The socket closed: the cycle decides whether its response ended."""
        self.closed = True
        self.cycle.closed()
        self.flow.release_drain()

    def pause_writing(self) -> None:
        """The socket's send buffer is full (asyncio flow control)."""
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        """The socket's send buffer drained."""
        self.flow.resume_writing()
