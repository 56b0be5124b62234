"""Handlers for the merged views and for ``/v1/models/{model}``.

``/api/tags``, ``/api/ps`` and ``/v1/models`` come from the listing cache (see :mod:`router.endpoints.listings`);
``/api/version`` is the lowest version among the backends, or 502 when none answered.
``/v1/models/{model}`` accepts ids with ``/`` in them, percent-encoded (as the openai client sends
them) or not: the server decodes the path before the router sees it. A routed model or alias is
answered from the merged tags; a model only the default backend might have is asked of that backend.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from starlette.types import Receive, Scope, Send

from config.model_names import InvalidModelNameError, model_key
from router.balancing.routing_table import UNROUTED
from router.balancing.selection import choices
from router.edge.context import RequestContext
from router.edge.responses import send_bytes, send_error
from router.endpoints.delivery import forward, outgoing
from router.endpoints.fleet import Fleet
from router.endpoints.listings import merged, openai_models_body, ps_body, tags_body, version_body
from router.endpoints.merge import openai_model
from router.telemetry.metrics import Reason

MODELS_PREFIX = "/v1/models/"


class ListingHandler:
    """Serves one merged view from the cache."""

    def __init__(self, state: Fleet, name: str, build: Callable[[Fleet], Awaitable[bytes]]) -> None:
        self.state = state
        self.name = name
        self.build = build

    async def __call__(self, ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        """The cached or freshly merged answer."""
        ctx.endpoint = self.name
        body = await self.state.listings.get(self.name, lambda: self.build(self.state))
        if not body:
            self.state.metrics.error(self.name, Reason.UNREACHABLE)
            await send_error(ctx, send, 502, "no backend answered; the fleet is unreachable")
            return
        await send_bytes(ctx, send, 200, body)


def listing_handlers(state: Fleet) -> dict[str, ListingHandler]:
    """The merged views by path."""
    return {
        "/api/tags": ListingHandler(state, "tags", tags_body),
        "/api/ps": ListingHandler(state, "ps", ps_body),
        "/api/version": ListingHandler(state, "version", version_body),
        "/v1/models": ListingHandler(state, "openai_models", openai_models_body),
    }


class OpenAIModelHandler:
    """``GET /v1/models/{model}``."""

    def __init__(self, state: Fleet) -> None:
        self.state = state

    async def __call__(self, ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        """One model's card, or OpenAI's 404."""
        ctx.endpoint = "openai_model"
        state = self.state
        model_id = ctx.path[len(MODELS_PREFIX) :]
        try:
            resolution = state.table.resolve(model_id)
            key = model_key(model_id)
        except InvalidModelNameError:
            resolution = None
        if resolution is not None and resolution.model == UNROUTED:
            options = choices(resolution.targets, state.backends.by_name)
            await forward(ctx, state, receive, send, outgoing(ctx, scope, b"", method="GET"), options=options)
            return
        if resolution is not None:
            for entry in await merged(state, b"/api/tags", "modified_at"):
                if model_key(str(entry.get("model") or entry.get("name"))) == key:
                    body = json.dumps(openai_model(model_id, entry), separators=(",", ":")).encode()
                    await send_bytes(ctx, send, 200, body)
                    return
        state.metrics.error(ctx.endpoint, Reason.BAD_REQUEST)
        await send_error(ctx, send, 404, f"model '{model_id}' not found")
