"""The router as an ASGI application: the gate in front of the route table, and a lifespan that owns the rest.

:class:`FleetApp` is composed, not a Starlette subclass: Starlette's middleware stack would wrap ``send``
twice (its error and exception middleware), which a streaming proxy pays on every chunk, and its router
tries each route's regex in turn. Inheriting Starlette would also offer ``add_middleware``,
``exception_handlers``, ``add_route`` and the like, which the router's own stack would silently ignore, so
it does not inherit them. Here the :class:`~router.edge.gate.Gate` (pure ASGI) does request ids, CORS and
access control once per request and finds the route with one dict lookup (plus a few prefixes).
Starlette's ``Router`` only runs the lifespan protocol, and the lifespan owns everything long-lived: the
background services (:mod:`router.runtime.services`: health probes, DNS look-ups, the model-map watcher)
are started before the first request and cancelled at shutdown, then every upstream connection is closed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.routing import Router
from starlette.types import ASGIApp, Receive, Scope, Send

from config.model_map import ModelMap
from router.balancing.resolver import Resolve
from router.edge.gate import Gate
from router.endpoints.routes import fleet_routes
from router.runtime.services import Services
from router.runtime.settings import RouterSettings
from router.runtime.state import FleetState


class FleetApp:
    """The router's ASGI application (see the module docstring for why its stack is its own)."""

    def __init__(self, state: FleetState, resolve: Resolve | None = None) -> None:
        self.fleet = state
        self.services = Services(state, resolve)
        lifespan_app = Router(lifespan=self._lifespan)
        self._gate: ASGIApp = Gate(
            fleet_routes(state),
            lifespan_app,
            metrics=state.metrics,
            cors=state.cors,
            keys=state.keys,
            hosts=state.hosts,
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: object) -> AsyncIterator[None]:
        state = self.fleet
        try:
            await self.services.start()
            yield
        finally:
            state.draining = True
            await self.services.aclose()
            await state.backends.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI scope: HTTP through the gate, the lifespan through Starlette's router."""
        await self._gate(scope, receive, send)


def create_app(settings: RouterSettings, model_map: ModelMap, resolve: Resolve | None = None) -> FleetApp:
    """The router application for ``settings``, serving ``model_map`` (``resolve`` looks up replicas)."""
    return FleetApp(FleetState(settings, model_map), resolve)
