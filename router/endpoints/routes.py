"""Every route of the router: its path, methods, access level and handler, each stated once, here.

Methods follow Ollama's own route table (``server/routes.go``, https://github.com/ollama/ollama): ``HEAD``
is taken where Ollama registers it (``/``, ``/api/version``, ``/api/tags``, ``/v1/models``), not on every
``GET``. Access levels follow the router's access table (:mod:`router.edge.access`): the banner and
probes are open, inference, listings, metrics and status need an API key when keys are set, admin calls
an admin key. Exact paths are one dict lookup; the prefixes are tried in the order listed.
"""

from __future__ import annotations

from router.edge.access import Access
from router.edge.routes import GET, GET_HEAD, POST, Route, RouteTable
from router.endpoints.admin import ModelessAdminHandler
from router.endpoints.by_model import RoutedHandler
from router.endpoints.catalog import OPENAI_PASSTHROUGH, ROUTED
from router.endpoints.fleet import Fleet
from router.endpoints.merged_views import MODELS_PREFIX, OpenAIModelHandler, listing_handlers
from router.endpoints.ops import ops_handlers

OPS = {"/": (GET_HEAD, Access.OPEN), "/healthz": (GET, Access.OPEN), "/readyz": (GET, Access.OPEN)}
OPS |= {"/metrics": (GET, Access.USER), "/fleet/status": (GET, Access.USER)}
LISTINGS = {"/api/tags": GET_HEAD, "/api/ps": GET, "/api/version": GET_HEAD, "/v1/models": GET_HEAD}
ACCOUNT = ("me", "signout")
PASSTHROUGH_METHODS = frozenset({"GET", "HEAD", "POST", "DELETE"})
"""What OpenAI-style endpoints use; ``OPTIONS`` is the gate's; anything else (``TRACE``, ``PUT``...) is 405."""
ADMIN_PREFIXES = (("/api/blobs/", "blobs", frozenset({"HEAD", "POST"})), ("/api/experimental/", "experimental", None))


def fleet_routes(fleet: Fleet) -> RouteTable:
    """Every route of the router, its handlers serving ``fleet``."""
    routes = [Route(path, handler, *OPS[path]) for path, handler in ops_handlers(fleet).items()]
    routes += [Route(path, handler, LISTINGS[path], Access.USER) for path, handler in listing_handlers(fleet).items()]
    routes += [Route(spec.path, RoutedHandler(fleet, spec), spec.methods, spec.access) for spec in ROUTED]
    routes += [Route(f"/api/{name}", ModelessAdminHandler(fleet, name), POST, Access.ADMIN) for name in ACCOUNT]
    routes += [
        Route(prefix, ModelessAdminHandler(fleet, name), methods, Access.ADMIN, prefix=True)
        for prefix, name, methods in ADMIN_PREFIXES
    ]
    routes.append(Route(MODELS_PREFIX, OpenAIModelHandler(fleet), GET, Access.USER, prefix=True))
    routes.append(
        Route("/v1/", RoutedHandler(fleet, OPENAI_PASSTHROUGH), PASSTHROUGH_METHODS, Access.USER, prefix=True)
    )
    return RouteTable(routes)
