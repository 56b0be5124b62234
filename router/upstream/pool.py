"""Keep-alive connections to one backend: a LIFO stack of idle connections, O(1) to take and return.

Why a stack: the most recently used connection is the one least likely to have been closed by the backend, and
staleness grows monotonically down the stack, so when the top is too old everything below it is too and the
whole stack can be dropped at once. Nothing ever scans the idle connections (the cost that makes httpcore's
pool collapse at a few hundred streams, measured on a 2-core machine: about 45 % of a naive httpx proxy's
CPU).

The pool owns every connection it made, idle or lent out, and :meth:`ConnectionPool.aclose` closes them
all, so shutting the router down never leaks a socket. :meth:`ConnectionPool.retire` is the gentle
version for a replica or backend that left the map while answers are still streaming from it: no new
requests, idle connections closed now, each lent connection closed when its answer ends.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

from router.upstream.connection import UpstreamConnection
from router.upstream.errors import ConnectTimeout, UpstreamConnectError, UpstreamTlsError
from router.upstream.secure import Upstream

IDLE_TTL = 30.0
"""Seconds an idle connection is trusted; older ones are closed instead of reused."""

MAX_IDLE = 512
"""Idle connections kept per backend; a connection returned beyond that is closed."""


class ConnectionPool:
    """Connections to ``host:port``, made on demand and reused while the backend keeps them alive."""

    def __init__(self, host: str, port: int, *, connect_timeout: float, upstream: Upstream | None = None) -> None:
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.upstream = upstream
        self._idle: list[UpstreamConnection] = []
        self._lent: set[UpstreamConnection] = set()
        self._closed = False

    @property
    def idle_count(self) -> int:
        """Connections waiting for a request."""
        return len(self._idle)

    @property
    def lent_count(self) -> int:
        """Connections carrying a request now."""
        return len(self._lent)

    async def checkout(self) -> tuple[UpstreamConnection, bool]:
        """A connection for one request, and whether it was reused (a reused one may be stale)."""
        if self._closed:
            raise UpstreamConnectError("this backend's connections are closed: it left the map, or the router stops")
        idle = self._idle
        while idle:
            conn = idle.pop()
            if conn.closed:
                continue
            if conn.now() - conn.idle_since <= IDLE_TTL:
                self._lent.add(conn)
                return conn, True
            conn.abort()
            self._drop_all_idle()
            break
        conn = await self._connect()
        self._lent.add(conn)
        return conn, False

    def checkin(self, conn: UpstreamConnection) -> None:
        """Return a connection after its response: kept for reuse when it can be, closed otherwise."""
        self._lent.discard(conn)
        if conn.reusable and not self._closed and len(self._idle) < MAX_IDLE:
            conn.park()
            conn.idle_since = conn.now()
            self._idle.append(conn)
        else:
            conn.abort()

    def discard(self, conn: UpstreamConnection) -> None:
        """Close a connection that must not be reused (failed, abandoned, or the client left)."""
        self._lent.discard(conn)
        conn.abort()

    @property
    def retired(self) -> bool:
        """Whether the pool takes no more requests (retired or closed)."""
        return self._closed

    def retire(self) -> None:
        """Take no more requests; close idle connections now and lent ones when their answer ends."""
        self._closed = True
        self._drop_all_idle()

    async def aclose(self) -> None:
        """Close every connection, idle or lent; later checkouts fail."""
        self._closed = True
        self._drop_all_idle()
        for conn in list(self._lent):
            conn.abort()
        self._lent.clear()

    def _drop_all_idle(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.abort()

    def _tls(self) -> tuple[ssl.SSLContext | None, str | None]:
        """The TLS context and server name for a new connection (none for plain HTTP)."""
        upstream = self.upstream
        if upstream is None or not upstream.https:
            return None, None
        if upstream.tls is None:
            raise UpstreamTlsError(f"no TLS settings for {self.host}:{self.port}: {upstream.last_error}")
        return upstream.tls, upstream.server_hostname

    async def _connect(self) -> UpstreamConnection:
        loop = asyncio.get_running_loop()
        tls, server_hostname = self._tls()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(
                    lambda: UpstreamConnection(loop),
                    self.host,
                    self.port,
                    family=socket.AF_UNSPEC,
                    ssl=tls,
                    server_hostname=server_hostname,
                )
        except TimeoutError:
            raise ConnectTimeout(self.connect_timeout) from None
        except ssl.SSLCertVerificationError as error:
            reason = f"certificate verify failed: {error.verify_message} (check the backend's CA bundle and host name)"
            raise UpstreamTlsError(f"TLS with {self.host}:{self.port} failed: {reason}") from None
        except ssl.SSLError as error:
            raise UpstreamTlsError(f"TLS with {self.host}:{self.port} failed: {error.reason or error}") from None
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise UpstreamConnectError(f"cannot connect to {self.host}:{self.port}: {reason}") from None
        return conn
