"""The router as an ASGI application: one Starlette app, one dict lookup per request.

:class:`FleetApp` is a Starlette application whose middleware stack is replaced by the router's own:
Starlette's default stack wraps ``send`` twice (its error and exception middleware), which a streaming
proxy would pay on every chunk, and its Router matches paths by trying each route's regex in turn.
Here the :class:`~router.edge.gate.Gate` (pure ASGI) does request ids, CORS and access control once per
request, and :class:`Dispatcher` finds the handler with one dict lookup (plus a few prefixes). Starlette
still runs the lifespan protocol, and the lifespan owns everything long-lived: the background services
(:mod:`router.runtime.services`: health probes, DNS look-ups, the model-map watcher) are started before the
first request and cancelled at shutdown, then every upstream connection is closed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from config.model_map import ModelMap
from router.balancing.resolver import Resolve
from router.edge.context import RequestContext
from router.edge.gate import Gate
from router.edge.responses import send_method_not_allowed, send_not_found
from router.endpoints.admin import ModelessAdminHandler
from router.endpoints.by_model import RoutedHandler
from router.endpoints.catalog import OPENAI_PASSTHROUGH, ROUTED
from router.endpoints.merged_views import MODELS_PREFIX, OpenAIModelHandler, listing_handlers
from router.endpoints.ops import ops_handlers
from router.runtime.services import Services
from router.runtime.settings import RouterSettings
from router.runtime.state import FleetState

Handler = Callable[[RequestContext, Scope, Receive, Send], Awaitable[None]]
Methods = frozenset[str] | None

GET_HEAD = frozenset({"GET", "HEAD"})
GET = frozenset({"GET"})


class Dispatcher:
    """Path → handler: exact paths first, then prefixes in order; wrong methods get gin's 405."""

    def __init__(self, exact: dict[str, tuple[Methods, Handler]], prefixes: list[tuple[str, Methods, Handler]]) -> None:
        self.exact = exact
        self.prefixes = prefixes

    async def __call__(self, ctx: RequestContext, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the handler for ``ctx.path``."""
        found = self.exact.get(ctx.path)
        if found is None:
            found = next(((m, h) for prefix, m, h in self.prefixes if ctx.path.startswith(prefix)), None)
        if found is None:
            await send_not_found(ctx, send)
            return
        methods, handler = found
        if methods is not None and ctx.method not in methods:
            await send_method_not_allowed(ctx, send)
            return
        await handler(ctx, scope, receive, send)


def build_dispatcher(state: FleetState) -> Dispatcher:
    """Every endpoint of the router, wired to ``state``."""
    exact: dict[str, tuple[Methods, Handler]] = {}
    for path, handler in ops_handlers(state).items():
        exact[path] = (GET_HEAD if path == "/" else GET, handler)
    for path, listing in listing_handlers(state).items():
        exact[path] = (GET if path == "/api/ps" else GET_HEAD, listing)
    for spec in ROUTED:
        exact[spec.path] = (spec.methods, RoutedHandler(state, spec))
    for name in ("me", "signout"):
        exact[f"/api/{name}"] = (frozenset({"POST"}), ModelessAdminHandler(state, name))
    prefixes: list[tuple[str, Methods, Handler]] = [
        ("/api/blobs/", frozenset({"HEAD", "POST"}), ModelessAdminHandler(state, "blobs")),
        ("/api/experimental/", None, ModelessAdminHandler(state, "experimental")),
        (MODELS_PREFIX, GET, OpenAIModelHandler(state)),
        ("/v1/", None, RoutedHandler(state, OPENAI_PASSTHROUGH)),
    ]
    return Dispatcher(exact, prefixes)


class FleetApp(Starlette):
    """The router's Starlette application (see the module docstring for why its stack is its own)."""

    def __init__(self, state: FleetState, resolve: Resolve | None = None) -> None:
        self.fleet = state
        self.services = Services(state, resolve)

        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            try:
                await self.services.start()
                yield
            finally:
                state.draining = True
                await self.services.aclose()
                await state.backends.aclose()

        super().__init__(lifespan=lifespan)

    def build_middleware_stack(self) -> ASGIApp:
        """The gate in front of the dispatcher; Starlette's router only runs the lifespan."""
        return Gate(build_dispatcher(self.fleet), self.router, self.fleet)


def create_app(settings: RouterSettings, model_map: ModelMap, resolve: Resolve | None = None) -> FleetApp:
    """The router application for ``settings``, serving ``model_map`` (``resolve`` looks up replicas)."""
    return FleetApp(FleetState(settings, model_map), resolve)
