"""The pure-ASGI front of the router: request id, CORS, access control, the error guard, the access log.

It runs once per request and never wraps ``send``: headers every response needs are put on the
:class:`~router.edge.context.RequestContext` and added by whoever starts the response, so a streamed answer
pays nothing here per chunk. Order matters: a request that repeats a header the router decides on is 400
(:mod:`router.edge.context`), then an unknown ``Host`` is 403 (:mod:`router.edge.hosts`), then a path with
dot segments or encoded separators is refused (:mod:`router.edge.paths`). Then, as Ollama does, the CORS
origin check and preflight (browsers send no credentials on a preflight), then the path is matched against
the route table and refused by the matched route's access level, so a refused request never reaches a
handler, let alone a backend; ``X-Fleet-Backend`` without an admin key is 403; a method the route does not
take is gin's 405. Anything a handler lets escape becomes a JSON 500, never a stack trace or an HTML page.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from router.edge.access import ANTHROPIC_KEY, BEARER, KeyChecker, request_key
from router.edge.context import RequestContext
from router.edge.cors import CorsPolicy
from router.edge.hosts import HostPolicy
from router.edge.paths import path_refusal
from router.edge.responses import send_bytes, send_error, send_method_not_allowed, send_not_found
from router.edge.routes import RouteTable
from router.refusal import Refusal
from router.telemetry.logs import JSON_FIELDS, json_string, request_id_var
from router.telemetry.metrics import Metrics, Reason

logger = logging.getLogger("router.access")

QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
"""Probe and scrape paths, logged at debug level so they do not drown the access log."""


class Gate:
    """Fronts the route table; hands every non-HTTP scope (the lifespan) to ``lifespan_app``."""

    def __init__(
        self,
        routes: RouteTable,
        lifespan_app: ASGIApp,
        *,
        metrics: Metrics,
        cors: CorsPolicy,
        keys: KeyChecker,
        hosts: HostPolicy,
    ) -> None:
        self.routes = routes
        self.lifespan_app = lifespan_app
        self.metrics = metrics
        self.cors = cors
        self.keys = keys
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        if scope["type"] != "http":
            await self.lifespan_app(scope, receive, send)
            return
        ctx = RequestContext(scope)
        token = request_id_var.set(ctx.request_id)
        metrics = self.metrics
        metrics.in_flight += 1
        try:
            await self._serve(ctx, scope, receive, send)
        except Exception:
            logger.exception("unhandled error", extra={"path": ctx.path})
            metrics.error(ctx.endpoint, Reason.INTERNAL)
            if not ctx.responded:
                await send_error(ctx, send, 500, "internal error in the router")
        finally:
            metrics.in_flight -= 1
            metrics.request_done(ctx.endpoint, ctx.method, ctx.status)
            self._log(ctx)
            request_id_var.reset(token)

    def _guard(self, ctx: RequestContext, scope: Scope) -> Refusal | None:
        """Refusals that come before anything else: repeated headers, an unknown Host, a tricky path."""
        if ctx.ambiguous is not None:
            name = ctx.ambiguous.decode("latin-1")
            return Refusal(400, f"ambiguous request: the {name} header is sent more than once; send it once")
        if not self.hosts.allows(ctx.path, ctx.host):
            return Refusal(403, "this router does not answer to that Host header (FLEET_ALLOWED_HOSTS)")
        raw_path = scope.get("raw_path")
        return path_refusal(ctx.path, raw_path if isinstance(raw_path, bytes) else None)

    async def _serve(self, ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        guard = self._guard(ctx, scope)
        if guard is not None:
            self.metrics.error("guard", Reason.BAD_REQUEST if guard.status != 403 else Reason.FORBIDDEN)
            if guard.status == 404:
                await send_not_found(ctx, send)
            else:
                await send_error(ctx, send, guard.status, guard.message)
            return
        cors = self.cors
        if ctx.origin is not None:
            if not cors.allows(ctx.origin, ctx.host):
                self.metrics.error("cors", Reason.REFUSED)
                await send_error(ctx, send, 403, "origin not allowed")
                return
            if ctx.method == "OPTIONS":
                headers = cors.preflight_headers(ctx.origin, _requested_headers(scope))
                await send_bytes(ctx, send, 204, b"", content_type=None, headers=headers)
                return
            ctx.response_headers.extend(cors.response_headers(ctx.origin))
        if ctx.method == "OPTIONS":
            await send_bytes(ctx, send, 204, b"", content_type=None)
            return
        route = self.routes.match(ctx.path)
        if route is None:
            await send_not_found(ctx, send)
            return
        token = request_key(ctx.authorization, ctx.api_key, anthropic=ctx.anthropic)
        refusal = self.keys.refusal(route.access, token, ANTHROPIC_KEY if ctx.anthropic else BEARER)
        if refusal is None and ctx.fleet_backend is not None:
            refusal = self.keys.fleet_backend_refusal(token)
        if refusal is not None:
            self.metrics.error("access", Reason.UNAUTHORIZED if refusal.status == 401 else Reason.FORBIDDEN)
            await send_error(ctx, send, refusal.status, refusal.message, refusal.headers)
            return
        if not route.allows(ctx.method):
            await send_method_not_allowed(ctx, send)
            return
        await route.handler(ctx, scope, receive, send)

    @staticmethod
    def _log(ctx: RequestContext) -> None:
        level = logging.DEBUG if ctx.path in QUIET_PATHS else logging.INFO
        if not logger.isEnabledFor(level):
            return
        # What ``logger.log(level, "request", extra=...)`` makes, without its per-call stack walk
        # (``findCaller``): no log line shows the caller's file or line. The fields are also rendered
        # as JSON here, where their types are known, so the formatter does not encode them generically.
        record = logging.getLogRecordFactory()(logger.name, level, __file__, 0, "request", None, None)
        model = ctx.model or None
        backend = ctx.backend or None
        duration_ms = round((time.perf_counter() - ctx.started) * 1000, 3)
        fields = record.__dict__
        fields.update(
            method=ctx.method,
            path=ctx.path,
            status=ctx.status,
            endpoint=ctx.endpoint,
            model=model,
            backend=backend,
            duration_ms=duration_ms,
        )
        fields[JSON_FIELDS] = (
            f',"method":{json_string(ctx.method)},"path":{json_string(ctx.path)},"status":{int(ctx.status)},'
            f'"endpoint":{json_string(ctx.endpoint)},"model":{json_string(model)},"backend":{json_string(backend)},'
            f'"duration_ms":{duration_ms!r}'
        )
        logger.handle(record)


def _requested_headers(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"access-control-request-headers":
            return bytes(value)
    return None
