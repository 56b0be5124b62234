"""One request/response exchange with a backend over a pooled connection.

:func:`exchange` sends a request whose body is already in memory (every JSON call: the body is small and
was read to find ``model``) and waits for the response head. If a *reused* connection turns out to have
been closed by the backend before it answered a single byte, the request is sent once more on a fresh
connection: the backend never saw it, so repeating it is safe. :func:`exchange_streaming` sends a body
as it arrives from the client (blob uploads) and so is never repeated.

The caller owns the returned :class:`UpstreamResponse` and must end it with :meth:`~UpstreamResponse.close`
(the connection goes back to the pool if the response ended cleanly) or :meth:`~UpstreamResponse.abort`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from router.upstream.connection import UpstreamConnection
from router.upstream.cycle import ResponseCycle
from router.upstream.errors import UpstreamProtocolError
from router.upstream.pool import ConnectionPool


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Deadlines for one exchange, in seconds; there is deliberately no total deadline.

    Attributes:
        connect: to open a TCP connection (short: a backend that does not accept is down).
        first_byte: from the request to the response head (long: Ollama may be loading a model).
        idle: between two chunks of the response body (bounded: a stalled stream is a failure).
    """

    connect: float
    first_byte: float
    idle: float


class UpstreamResponse:
    """A backend's response head, with the body still to be read chunk by chunk."""

    __slots__ = ("_conn", "_done", "_pool", "headers", "read", "status")

    def __init__(self, conn: UpstreamConnection, cycle: ResponseCycle, pool: ConnectionPool) -> None:
        self._conn = conn
        self._pool = pool
        self._done = False
        self.status = cycle.status
        self.headers = cycle.headers
        self.read: Callable[[], Awaitable[bytes]] = cycle.read
        """The body bytes received since the last call (``b""`` at the end); raises UpstreamError.

        The cycle's own ``read``, bound here rather than wrapped: no extra coroutine per chunk.
        """

    async def body(self, limit: int) -> bytes:
        """The whole body, for small answers (listings, errors); more than ``limit`` bytes is an error."""
        parts: list[bytes] = []
        size = 0
        while chunk := await self.read():
            size += len(chunk)
            if size > limit:
                raise UpstreamProtocolError(f"the backend's answer exceeds {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)

    def close(self) -> None:
        """Give the connection back: reused if the response ended cleanly, closed otherwise."""
        if not self._done:
            self._done = True
            self._pool.checkin(self._conn)

    def abort(self) -> None:
        """Close the connection now, whatever state the response is in (the backend sees a reset)."""
        if not self._done:
            self._done = True
            self._pool.discard(self._conn)


async def exchange(
    pool: ConnectionPool, request: bytes, timeouts: Timeouts, *, head_only: bool = False
) -> UpstreamResponse:
    """Send ``request`` (head and body bytes) and return once the response head has arrived."""
    for attempt in (1, 2):
        conn, reused = await pool.checkout()
        try:
            cycle = conn.start(request, head_only=head_only, first_byte=timeouts.first_byte, idle=timeouts.idle)
            await cycle.read_head()
        except UpstreamProtocolError:
            pool.discard(conn)
            if reused and not conn.cycle.received_any and attempt == 1:
                continue
            raise
        except BaseException:
            pool.discard(conn)
            raise
        return UpstreamResponse(conn, cycle, pool)
    raise AssertionError("unreachable: the second attempt returns or raises")


async def exchange_streaming(
    pool: ConnectionPool, head: bytes, body: AsyncIterator[bytes], timeouts: Timeouts
) -> UpstreamResponse:
    """Send ``head``, then each body part as the client delivers it (chunked unless sized in ``head``)."""
    conn, _ = await pool.checkout()
    try:
        cycle = conn.start(head, head_only=False, first_byte=timeouts.first_byte, idle=timeouts.idle)
        async for part in body:
            await conn.write(part)
        await cycle.read_head()
    except BaseException:
        pool.discard(conn)
        raise
    return UpstreamResponse(conn, cycle, pool)
