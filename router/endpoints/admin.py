"""Admin endpoints that name no model: blob uploads and checks, account and experimental calls.

Nothing in these requests says which backend they are for, so the client names it with
``X-Fleet-Backend`` (a map with a single backend needs no header). Blob uploads are the one request body
the router never holds: it is streamed to the backend as the client sends it, under no body limit
(a model's weights are gigabytes), with its ``Content-Length`` or, lacking one, chunked.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from starlette.types import Receive, Scope, Send

from router.balancing.admission import admit
from router.balancing.attempts import Answer, Failure, Outcome
from router.balancing.backends import Backend
from router.balancing.selection import Choice, rank
from router.edge.body import ClientGone, Refused, read_body
from router.edge.context import RequestContext
from router.edge.responses import send_error
from router.endpoints.by_model import named_backend
from router.endpoints.delivery import client_gone, deliver, forward, outgoing, upstream_target
from router.endpoints.fleet import Fleet
from router.telemetry.metrics import Reason
from router.upstream import UpstreamError, exchange_streaming
from router.upstream.headers import request_head


def chosen_backend(ctx: RequestContext, state: Fleet) -> Backend:
    """The backend named by the header, or the map's only backend; else a 400 saying how to name one."""
    named = named_backend(ctx, state)
    if named is not None:
        return named
    names = state.table.backend_names
    if len(names) == 1:
        only = state.backend(names[0])
        assert only is not None
        return only
    raise Refused(
        400,
        f"{ctx.path} names no model: choose its backend with the X-Fleet-Backend header (one of: {', '.join(names)})",
    )


async def _body_parts(receive: Receive, chunked: bool) -> AsyncIterator[bytes]:
    """The client's body as it arrives, framed for the backend."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk: bytes = message.get("body", b"")
        if chunk:
            yield b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk
        if not message.get("more_body", False):
            break
    if chunked:
        yield b"0\r\n\r\n"


class ModelessAdminHandler:
    """Forwards a model-less admin request to the named backend; streams blob uploads."""

    def __init__(self, state: Fleet, name: str) -> None:
        self.state = state
        self.name = name

    async def __call__(self, ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse, stream an upload, or forward."""
        state = self.state
        ctx.endpoint = self.name
        try:
            backend = chosen_backend(ctx, state)
            if self.name == "blobs" and ctx.method == "POST":
                await deliver(
                    ctx, state, receive, send, lambda: self._upload(ctx, scope, receive, backend), body_read=False
                )
                return
            body = await read_body(receive, state.max_body_bytes, ctx.content_length)
        except Refused as refusal:
            state.metrics.error(ctx.endpoint, Reason.BAD_REQUEST)
            await send_error(ctx, send, refusal.status, refusal.message)
            return
        except ClientGone:
            client_gone(ctx, state)
            return
        await forward(ctx, state, receive, send, outgoing(ctx, scope, body), options=[Choice(backend)])
        state.listings.clear()

    async def _upload(self, ctx: RequestContext, scope: Scope, receive: Receive, backend: Backend) -> Outcome:
        """Stream the client's upload to one replica of ``backend`` (never repeated: the body is not kept)."""
        length = ctx.content_length
        sized = length is not None and length.isdigit()
        head = request_head(
            "POST",
            upstream_target(scope),
            backend.host_header,
            ctx.request_headers,
            request_id=ctx.request_id_bytes,
            content_length=int(length) if sized and length is not None else None,
            authorization=backend.authorization,
        )
        await admit(rank([Choice(backend)]), self.state.balancer.limits)
        replica = (backend.eligible(time.monotonic()) or backend.replicas)[0]
        replica.in_flight += 1
        try:
            upstream = await exchange_streaming(
                replica.pool, head, _body_parts(receive, not sized), self.state.timeouts
            )
        except UpstreamError as error:
            replica.in_flight -= 1
            backend.release()
            replica.record_failure(str(error))
            return Failure(error, backend, retry=False)
        except BaseException:
            replica.in_flight -= 1
            backend.release()
            raise
        replica.record_success()
        return Answer(upstream, backend, replica)
