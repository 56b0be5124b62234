"""Forwarding one request to the first backend that answers, and relaying that answer.

Candidates come from :func:`router.selection.candidates`, best first. Before the first response byte a
failure is not the client's problem yet: a connection that cannot be made, or an answer of 502, 503 or
504, moves the request to the next candidate (the body is in memory, so it can be sent again). A
first-byte timeout does not: the backend may be working on it, and trying elsewhere would double the
wait and the work. When every candidate failed the client gets 502 (unreachable) or 504 (timeout) in its
path's error shape, naming the backend.

Each attempt counts in its backend's ``in_flight`` until the relayed answer ends, and its outcome feeds
the backend's health and circuit breaker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.types import Receive, Scope, Send

from router.backends import Backend
from router.context import RequestContext
from router.disconnect import DisconnectWatcher
from router.headers import request_head
from router.relay import relay
from router.responses import send_error
from router.state import FleetState
from router.upstream import UpstreamError, UpstreamResponse, UpstreamTimeout, exchange

RETRY_STATUSES = frozenset({502, 503, 504})
"""Backend answers that send the request on to the next candidate (when there is one)."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """The request as it goes upstream: method, target (path and query), body, and HEAD-ness."""

    method: str
    target: bytes
    body: bytes

    @property
    def head_only(self) -> bool:
        """A HEAD request's response has no body, whatever its headers say."""
        return self.method == "HEAD"


def upstream_target(scope: Scope) -> bytes:
    """The request target for the backend: the client's path as it was encoded, and its query."""
    raw_path = scope.get("raw_path")
    target: bytes = raw_path if isinstance(raw_path, bytes) and raw_path else scope["path"].encode("utf-8")
    query: bytes = scope.get("query_string", b"")
    return target + b"?" + query if query else target


async def _attempt(ctx: RequestContext, state: FleetState, outgoing: Outgoing, backend: Backend) -> UpstreamResponse:
    head = request_head(
        outgoing.method,
        outgoing.target,
        backend.host_header,
        ctx.request_headers,
        request_id=ctx.request_id_bytes,
        content_length=len(outgoing.body),
    )
    backend.circuit.on_dispatch()
    started = time.perf_counter()
    upstream = await exchange(backend.pool, head + outgoing.body, state.timeouts, head_only=outgoing.head_only)
    state.metrics.first_byte(backend.name, time.perf_counter() - started)
    return upstream


async def first_answer(
    ctx: RequestContext, state: FleetState, outgoing: Outgoing, chosen: list[Backend]
) -> tuple[UpstreamResponse, Backend] | tuple[UpstreamError, Backend]:
    """The first usable answer among ``chosen`` (its backend's ``in_flight`` stays raised), or the last failure."""
    failure: tuple[UpstreamError, Backend] | None = None
    for index, backend in enumerate(chosen):
        backend.in_flight += 1
        try:
            upstream = await _attempt(ctx, state, outgoing, backend)
        except UpstreamError as error:
            backend.in_flight -= 1
            backend.record_failure(str(error))
            failure = (error, backend)
            if isinstance(error, UpstreamTimeout) and error.phase == "first byte":
                break
            continue
        except BaseException:
            backend.in_flight -= 1
            raise
        if upstream.status in (502, 504):
            backend.record_failure(f"answered {upstream.status}")
        else:
            backend.record_success()
        if upstream.status in RETRY_STATUSES and index + 1 < len(chosen):
            upstream.abort()
            backend.in_flight -= 1
            continue
        return upstream, backend
    assert failure is not None, "first_answer needs at least one candidate"
    return failure


async def send_failure(
    ctx: RequestContext, state: FleetState, send: Send, error: UpstreamError, backend: Backend
) -> None:
    """The client's answer when no backend could be used: 502 or 504, naming the backend."""
    if isinstance(error, UpstreamTimeout):
        state.metrics.error(ctx.endpoint, "timeout")
        message = f"backend {backend.name} timed out: {error}"
    else:
        state.metrics.error(ctx.endpoint, "unreachable")
        message = f"backend {backend.name} is unreachable: {error}"
    ctx.backend = backend.name
    await send_error(ctx, send, error.status, message, [(b"x-fleet-backend", backend.name_header)])


Obtained = tuple[UpstreamResponse, Backend] | tuple[UpstreamError, Backend]
"""A backend's response head (its ``in_flight`` raised), or why no backend could give one."""


async def deliver(
    ctx: RequestContext,
    state: FleetState,
    receive: Receive,
    send: Send,
    obtain: Callable[[], Awaitable[Obtained]],
    *,
    body_read: bool = True,
) -> None:
    """Get a response head with ``obtain`` and relay it; absorb a client disconnect at any point.

    With ``body_read`` false, ``obtain`` is still consuming the request body (an upload), so the
    disconnect watcher starts only once the response head has arrived.
    """
    watcher = DisconnectWatcher(receive) if body_read else None
    try:
        result, backend = await obtain()
        ctx.backend = backend.name
        if isinstance(result, UpstreamError):
            if watcher is not None:
                watcher.finishing = True
            await send_failure(ctx, state, send, result, backend)
            return
        try:
            watcher = watcher or DisconnectWatcher(receive)
            await relay(ctx, state.metrics, send, result, backend, watcher=watcher)
        finally:
            result.abort()
            backend.in_flight -= 1
    except asyncio.CancelledError:
        if watcher is None or not watcher.fired:
            raise
        watcher.absorb()
        client_gone(ctx, state)
    finally:
        if watcher is not None:
            watcher.stop()


async def forward(
    ctx: RequestContext, state: FleetState, receive: Receive, send: Send, outgoing: Outgoing, *, chosen: list[Backend]
) -> None:
    """Send ``outgoing`` to the first of ``chosen`` that answers and relay the answer to the client."""
    await deliver(ctx, state, receive, send, lambda: first_answer(ctx, state, outgoing, chosen))


def client_gone(ctx: RequestContext, state: FleetState) -> None:
    """Book a request whose client left before its answer was complete."""
    state.metrics.error(ctx.endpoint, "client_gone")
    if not ctx.responded:
        ctx.status = 499
