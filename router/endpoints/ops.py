"""The router's own endpoints: Ollama's banner, liveness, readiness, metrics and fleet status.

``/healthz`` says the process serves requests. ``/readyz`` says it should receive traffic: a model map
is loaded and the router is not draining (after SIGTERM it answers 503 while answers in flight finish).
Backend health is deliberately not part of readiness: a router that went unready whenever a GPU pool
did would take the healthy pools' traffic down with it; backend health is in ``/fleet/status`` and
``/metrics`` instead.
"""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from router.edge.context import RequestContext
from router.edge.responses import TEXT, send_bytes, send_json
from router.edge.routes import Handler
from router.endpoints.fleet import Fleet

PROMETHEUS = b"text/plain; version=0.0.4; charset=utf-8"


def ops_handlers(state: Fleet) -> dict[str, Handler]:
    """The router's own endpoints by path."""

    async def banner(ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        ctx.endpoint = "root"
        await send_bytes(ctx, send, 200, b"Ollama is running", content_type=TEXT)

    async def healthz(ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        ctx.endpoint = "healthz"
        await send_json(ctx, send, 200, {"status": "ok"})

    async def readyz(ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        ctx.endpoint = "readyz"
        version = state.table.version
        if state.draining:
            await send_json(ctx, send, 503, {"status": "draining", "model_map_version": version})
        else:
            await send_json(ctx, send, 200, {"status": "ready", "model_map_version": version})

    async def metrics(ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        ctx.endpoint = "metrics"
        gauges = [backend.gauges() for backend in state.backends.by_name.values()]
        body = state.metrics.render(gauges, state.draining).encode()
        await send_bytes(ctx, send, 200, body, content_type=PROMETHEUS)

    async def fleet_status(ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        ctx.endpoint = "fleet_status"
        await send_json(ctx, send, 200, state.status())

    return {"/": banner, "/healthz": healthz, "/readyz": readyz, "/metrics": metrics, "/fleet/status": fleet_status}
