"""Requests that must reach every backend of a route: ``delete``, and unloading a model.

Deleting a model from one pool while another still serves it would leave the map lying, and an unload
(``keep_alive: 0`` with an empty prompt or message list, as Open WebUI sends it) must free the model on
every GPU that holds it. The request goes to every replica of all the route's backends at once (these
requests bypass ``max_in_flight``: they free capacity rather than use it); their answers are small JSON
documents (or empty), read whole. The client gets the first success in route order (any 2xx), else the
first answer, else 502/504; ``X-Fleet-Backend`` lists every backend that gave the chosen status.
A replica that answered either with a 2xx no longer holds the model (its residency forgets it at once).
"""

from __future__ import annotations

import asyncio

from starlette.types import Send

from router.balancing.attempts import Failure
from router.balancing.backends import Backend
from router.balancing.placement import model_of
from router.balancing.replicas import Replica
from router.edge.context import RequestContext
from router.edge.responses import send_bytes
from router.endpoints.delivery import send_failure
from router.endpoints.fleet import Fleet
from router.upstream import Outgoing, UpstreamError, exchange
from router.upstream.headers import response_headers

ANSWER_LIMIT = 1 << 20
"""Bytes read from each backend's answer; delete and unload answers are tiny."""

Reply = tuple[int, list[tuple[bytes, bytes]], bytes]
"""One backend's status, headers and body, read whole."""


async def _ask(
    ctx: RequestContext, state: Fleet, outgoing: Outgoing, backend: Backend, replica: Replica
) -> Reply | UpstreamError:
    message = outgoing.message(backend.host_header, backend.authorization)
    replica.in_flight += 1
    try:
        upstream = await exchange(replica.pool, message, state.timeouts)
        try:
            body = await upstream.body(ANSWER_LIMIT)
        finally:
            upstream.close()
    except UpstreamError as error:
        replica.record_failure(str(error))
        return error
    finally:
        replica.in_flight -= 1
    if upstream.status >= 500:
        replica.record_failure(f"answered {upstream.status}")
    else:
        replica.record_success()
    model = model_of(outgoing.model)
    if 200 <= upstream.status < 300 and model is not None:
        replica.residency.unloaded(model)
    return upstream.status, upstream.headers, body


async def fan_out(ctx: RequestContext, state: Fleet, send: Send, outgoing: Outgoing, backends: list[Backend]) -> None:
    """Send ``outgoing`` to every replica of ``backends`` and answer with the best of their answers."""
    targets = [(backend, replica) for backend in backends for replica in backend.replicas]
    results = await asyncio.gather(*(_ask(ctx, state, outgoing, backend, replica) for backend, replica in targets))
    answers = [(b, r) for (b, _), r in zip(targets, results, strict=True) if not isinstance(r, UpstreamError)]
    if not answers:
        error = results[0]
        assert isinstance(error, UpstreamError)
        await send_failure(ctx, state, send, Failure(error, targets[0][0]))
        return
    chosen = next(((b, r) for b, r in answers if 200 <= r[0] < 300), answers[0])
    status, headers, body = chosen[1]
    names = ", ".join(dict.fromkeys(b.name for b, r in answers if r[0] == status))
    ctx.backend = names
    out = [(name, value) for name, value in response_headers(headers) if name != b"content-length"]
    out.append((b"x-fleet-backend", names.encode("ascii")))
    await send_bytes(ctx, send, status, body, content_type=None, headers=out)
