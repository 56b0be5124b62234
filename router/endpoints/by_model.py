"""Endpoints routed by the model named in their JSON body: read, validate, resolve, forward.

One handler class serves every entry of :data:`router.endpoints.catalog.ROUTED` (and the ``/v1`` pass-through):
it reads the body once, finds the model (``model``, or legacy ``name`` where Ollama accepts it),
refuses it with that endpoint's own wording when it is missing, invalid or unserved, rewrites an alias
in the body, and picks the backends. ``X-Fleet-Backend: <name>`` sends the request to that backend
whatever the map says. ``delete`` and unloads go to every backend (every replica) of the route;
everything else to the best candidate, with retries and fallback before the first byte
(:mod:`router.balancing.attempts`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import Receive, Scope, Send

from config.model_names import InvalidModelNameError
from router.balancing.backends import Backend
from router.balancing.routing_table import UNROUTED, Resolution
from router.balancing.selection import Choice, choices
from router.edge.access import Access
from router.edge.body import ClientGone, Refused, decode_object, model_field, read_body
from router.edge.context import RequestContext
from router.edge.gofields import GoFields
from router.edge.responses import send_error
from router.endpoints.catalog import OPENAI_PASSTHROUGH, RoutedEndpoint
from router.endpoints.delivery import client_gone, forward, outgoing
from router.endpoints.fanout import fan_out
from router.endpoints.fleet import Fleet
from router.refusal import Refusal
from router.telemetry.metrics import Reason
from router.upstream import Outgoing

_ZERO_DURATION = re.compile(r"[+-]?(?:(?:0+\.?0*|\.0+)(?:ns|us|µs|μs|ms|s|m|h))+|[+-]?0+(?:\.0*)?")


def is_zero_duration(value: Any) -> bool:
    """Whether a ``keep_alive`` value means zero (``0``, ``0.0``, ``"0"``, ``"0s"``, ``"0m0s"`` ...)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return value == 0
    return isinstance(value, str) and _ZERO_DURATION.fullmatch(value.strip()) is not None


def is_unload(document: GoFields, field: str) -> bool:
    """Whether a generate/chat body asks Ollama to unload the model rather than to answer."""
    return is_zero_duration(document.get("keep_alive")) and document.get(field) in (None, "", [])


def named_backend(ctx: RequestContext, state: Fleet) -> Backend | None:
    """The backend named by ``X-Fleet-Backend``, None without the header; 400 for an unknown name."""
    if ctx.fleet_backend is None:
        return None
    name = ctx.fleet_backend.decode("latin-1")
    backend = state.backend(name)
    if backend is None:
        known = ", ".join(state.table.backend_names)
        raise Refused(400, f"unknown backend {name!r} in the X-Fleet-Backend header; use one of: {known}")
    return backend


class RoutedHandler:
    """Serves one :class:`RoutedEndpoint`."""

    def __init__(self, state: Fleet, spec: RoutedEndpoint) -> None:
        self.state = state
        self.spec = spec

    async def __call__(self, ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse, fan out, or forward the request."""
        state = self.state
        ctx.endpoint = self.spec.name
        try:
            outgoing, options, everywhere = await self._plan(ctx, scope, receive)
        except Refusal as refusal:
            state.metrics.error(ctx.endpoint, Reason.REFUSED if refusal.status >= 500 else Reason.BAD_REQUEST)
            await send_error(ctx, send, refusal.status, refusal.message)
            return
        except ClientGone:
            client_gone(ctx, state)
            return
        if everywhere:
            await fan_out(ctx, state, send, outgoing, [option.backend for option in options])
        else:
            await forward(ctx, state, receive, send, outgoing, options=options)
        if self.spec.access is Access.ADMIN or everywhere:
            state.listings.clear()

    async def _plan(self, ctx: RequestContext, scope: Scope, receive: Receive) -> tuple[Outgoing, list[Choice], bool]:
        spec, state = self.spec, self.state
        body = await read_body(receive, state.max_body_bytes, ctx.content_length)
        if spec is OPENAI_PASSTHROUGH and not body.strip():
            raise Refused(404, "404 page not found")
        document = decode_object(body, spec.go_type)
        fields = GoFields(document, spec.routing_fields)
        name, key = model_field(fields, spec.fields, spec.go_type)
        named = named_backend(ctx, state)
        resolution = self._resolve(name)
        if resolution is None and named is None:
            unknown = spec.unknown
            raise Refused(unknown.status, unknown.render(name, ", ".join(state.table.backend_names)))
        ctx.model = UNROUTED if resolution is None else resolution.model
        if resolution is not None and resolution.rewrite is not None:
            document[key] = resolution.rewrite
            body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
        if named is not None:
            return outgoing(ctx, scope, body), [Choice(named)], False
        assert resolution is not None
        routed = resolution.model != UNROUTED
        request = outgoing(ctx, scope, body, model_fallback=routed)
        if spec.everywhere or (spec.unload_field is not None and is_unload(fields, spec.unload_field)):
            return request, self._everywhere(resolution), True
        return request, choices(resolution.targets, state.backends.by_name), False

    def _resolve(self, name: str) -> Resolution | None:
        spec = self.spec
        if not name:
            raise Refused(spec.missing.status, spec.missing.render(""))
        try:
            return self.state.table.resolve(name)
        except InvalidModelNameError:
            raise Refused(spec.invalid.status, spec.invalid.render(name)) from None

    def _everywhere(self, resolution: Resolution) -> list[Choice]:
        targets = sorted(resolution.targets, key=lambda target: target.priority)
        return choices(targets, self.state.backends.by_name)
