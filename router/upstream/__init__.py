"""The router's own upstream HTTP/1.1 client: lean enough for one streamed line per event-loop turn.

Why not httpx here: a naive Starlette + httpx proxy measured on a 2-core machine spent 130 µs of CPU per
streamed line, and its pool
re-checks every idle connection on each request, so it collapses at 256 concurrent streams. This client
is an ``asyncio.Protocol`` fed by httptools' response parser (which also undoes chunked encoding), keeps
one LIFO stack of idle keep-alive connections per backend (checkout and checkin are O(1)), and hands the
caller each decoded body chunk as it arrived, without any per-line work. The same client serves the
low-rate paths too (merged listings, version probes): one connection owner, one timeout model and one
error taxonomy for every byte the router sends upstream, and no second HTTP stack in the image.

Owns the wire: connections and their pool, one request/response cycle, flow control, the request head
and hop-by-hop header rules, the outgoing request, TLS and bearer tokens for servers outside the
cluster, and the upstream error tree.
May import: nothing else of the router.
"""

from __future__ import annotations

from router.upstream.errors import (
    ConnectTimeout,
    FirstByteTimeout,
    IdleTimeout,
    UpstreamConnectError,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamTimeout,
    UpstreamTlsError,
)
from router.upstream.exchange import Timeouts, UpstreamResponse, exchange, exchange_streaming
from router.upstream.outgoing import Outgoing
from router.upstream.pool import ConnectionPool
from router.upstream.secure import Upstream

__all__ = [
    "ConnectTimeout",
    "ConnectionPool",
    "FirstByteTimeout",
    "IdleTimeout",
    "Outgoing",
    "Timeouts",
    "UpstreamConnectError",
    "UpstreamError",
    "UpstreamProtocolError",
    "UpstreamResponse",
    "UpstreamTimeout",
    "UpstreamTlsError",
    "Upstream",
    "exchange",
    "exchange_streaming",
]
