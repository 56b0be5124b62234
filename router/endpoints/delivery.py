"""Forwarding one request and delivering the outcome to the client, whatever it turned out to be.

:meth:`router.balancing.attempts.Balancer.first_answer` finds the answer (retries and fallback happen
there, before the first byte); :func:`deliver` turns its outcome into the client's response:

- an :class:`~router.balancing.attempts.Answer` is relayed as it streams (:func:`router.endpoints.relay.relay`);
- a :class:`~router.balancing.attempts.Buffered` backend answer is sent as read, with ``X-Fleet-Backend``;
- a :class:`~router.balancing.attempts.Failure` becomes 502 (unreachable) or 504 (timeout) naming the backend;
- :class:`~router.balancing.selection.Unavailable` (every circuit open, or every queue full) becomes a 503 with
  ``Retry-After``.

Errors take the path's shape (Ollama's or OpenAI's). A client that hangs up at any point, waiting in a
queue, for a connection, for the first byte or mid-stream, cancels the work and closes the upstream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from starlette.types import Receive, Scope, Send

from router.balancing.attempts import Answer, Buffered, Failure, Outcome
from router.balancing.selection import Choice, Unavailable
from router.edge.context import RequestContext
from router.edge.disconnect import DisconnectWatcher
from router.edge.responses import send_bytes, send_error
from router.endpoints.fleet import Fleet
from router.endpoints.relay import relay
from router.telemetry.metrics import Reason
from router.upstream import Outgoing
from router.upstream.headers import response_headers


def outgoing(
    ctx: RequestContext, scope: Scope, body: bytes, *, method: str | None = None, model_fallback: bool = False
) -> Outgoing:
    """The client's request as it goes upstream (``method`` defaults to the client's)."""
    return Outgoing(
        method or ctx.method,
        upstream_target(scope),
        body,
        ctx.request_headers,
        ctx.request_id_bytes,
        model=ctx.model,
        model_fallback=model_fallback,
    )


def upstream_target(scope: Scope) -> bytes:
    """The request target for the backend: the client's path as it was encoded, and its query."""
    raw_path = scope.get("raw_path")
    target: bytes = raw_path if isinstance(raw_path, bytes) and raw_path else scope["path"].encode("utf-8")
    query: bytes = scope.get("query_string", b"")
    return target + b"?" + query if query else target


async def send_failure(ctx: RequestContext, state: Fleet, send: Send, failure: Failure) -> None:
    """The client's answer when no backend answered: 502 or 504, naming the backend."""
    error, backend = failure.error, failure.backend
    reason = Reason(error.reason)
    state.metrics.error(ctx.endpoint, reason)
    if reason is Reason.TIMEOUT:
        message = f"backend {backend.name} timed out: {error}"
    else:
        message = f"backend {backend.name} is unreachable: {error}"
    ctx.backend = backend.name
    await send_error(ctx, send, error.status, message, [(b"x-fleet-backend", backend.name_header)])


async def send_buffered(ctx: RequestContext, send: Send, answer: Buffered) -> None:
    """A backend's complete answer, as it sent it (its end-to-end headers, then the router's)."""
    ctx.backend = answer.backend.name
    headers = [(name, value) for name, value in response_headers(answer.headers) if name != b"content-length"]
    headers.append((b"x-fleet-backend", answer.backend.name_header))
    await send_bytes(ctx, send, answer.status, answer.body, content_type=None, headers=headers)


async def send_unavailable(ctx: RequestContext, state: Fleet, send: Send, refusal: Unavailable) -> None:
    """503 with ``Retry-After``: every candidate's circuit is open, or every queue is full."""
    state.metrics.error(ctx.endpoint, refusal.reason)
    await send_error(ctx, send, refusal.status, refusal.message, refusal.headers)


async def _finish(ctx: RequestContext, state: Fleet, send: Send, outcome: Buffered | Failure) -> None:
    if isinstance(outcome, Buffered):
        await send_buffered(ctx, send, outcome)
    else:
        await send_failure(ctx, state, send, outcome)


async def deliver(
    ctx: RequestContext,
    state: Fleet,
    receive: Receive,
    send: Send,
    obtain: Callable[[], Awaitable[Outcome]],
    *,
    body_read: bool = True,
) -> None:
    """Get an outcome with ``obtain`` and deliver it; absorb a client disconnect at any point.

    With ``body_read`` false, ``obtain`` is still consuming the request body (an upload), so the
    disconnect watcher starts only once the response head has arrived.
    """
    watcher = DisconnectWatcher(receive) if body_read else None
    try:
        try:
            outcome = await obtain()
        except Unavailable as refusal:
            if watcher is not None:
                watcher.finishing = True
            await send_unavailable(ctx, state, send, refusal)
            return
        if not isinstance(outcome, Answer):
            if watcher is not None:
                watcher.finishing = True
            await _finish(ctx, state, send, outcome)
            return
        ctx.backend = outcome.backend.name
        try:
            watcher = watcher or DisconnectWatcher(receive)
            upstream, replica = outcome.upstream, outcome.replica
            await relay(ctx, state.metrics, send, upstream, replica, backend=outcome.backend, watcher=watcher)
        finally:
            outcome.finish()
    except asyncio.CancelledError:
        if watcher is None or not watcher.fired:
            raise
        watcher.absorb()
        client_gone(ctx, state)
    finally:
        if watcher is not None:
            watcher.stop()


async def forward(
    ctx: RequestContext,
    state: Fleet,
    receive: Receive,
    send: Send,
    outgoing: Outgoing,
    *,
    options: Sequence[Choice],
) -> None:
    """Send ``outgoing`` to the best of ``options`` that answers and deliver the outcome to the client.

    Options that sleep (scale to zero) are left out, or woken first when nothing else can serve: the wait
    happens inside ``deliver``, so a client that leaves meanwhile is noticed there.
    """

    async def obtain() -> Outcome:
        ready = await state.scaler.ready(options) if state.scaler.pools else options
        return await state.balancer.first_answer(outgoing, ready)

    await deliver(ctx, state, receive, send, obtain)


def client_gone(ctx: RequestContext, state: Fleet) -> None:
    """Book a request whose client left before its answer was complete."""
    state.metrics.error(ctx.endpoint, Reason.CLIENT_GONE)
    if not ctx.responded:
        ctx.status = 499
