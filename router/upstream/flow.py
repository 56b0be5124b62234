"""Flow control on one upstream connection, both ways, as uvicorn's ``FlowControl`` does for its clients.

Writing: asyncio calls ``pause_writing`` when the socket's send buffer is full (a streamed upload
faster than the backend reads it) and ``resume_writing`` when it drained; a writer waits in between.
Reading: a slow client must not make the router buffer a fast backend's answer without bound, so past
:data:`HIGH_WATER` queued bytes the socket is not read until the consumer catches up. Both are called
only when the state changes, never per chunk.
"""

from __future__ import annotations

import asyncio

HIGH_WATER = 256 * 1024
"""Queued body bytes past which the socket is no longer read until the consumer drains the queue."""


class FlowControl:
    """Pauses and resumes one transport's reading and writing."""

    __slots__ = ("_drain", "_loop", "read_paused", "transport", "write_paused")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self.read_paused = False
        self.write_paused = False
        self._drain: asyncio.Future[None] | None = None

    def pause_reading(self) -> None:
        """Stop reading the socket: the consumer is behind."""
        if not self.read_paused and self.transport is not None:
            self.read_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        """The consumer caught up: read the socket again."""
        if self.read_paused:
            self.read_paused = False
            if self.transport is not None:
                self.transport.resume_reading()

    async def drain(self, closed: bool) -> None:
        """Wait while the socket's send buffer is full (not on a closed connection)."""
        if self.write_paused and not closed:
            self._drain = self._loop.create_future()
            await self._drain

    def pause_writing(self) -> None:
        """The socket's send buffer is full."""
        self.write_paused = True

    def resume_writing(self) -> None:
        """The socket's send buffer drained."""
        self.write_paused = False
        self.release_drain()

    def release_drain(self) -> None:
        """Let a waiting writer go on (the buffer drained, or the connection is gone)."""
        drain, self._drain = self._drain, None
        if drain is not None and not drain.done():
            drain.set_result(None)
