"""The route table's shape: a route carries its path, handler, methods and access level, and nothing else does.

Like starlette's ``Route(path, endpoint, methods=...)`` (https://www.starlette.io/routing/): the gate
matches a request's path once, refuses it by the matched route's access level, answers a method the
route does not take with 405, and hands the rest to the route's handler. Which routes exist is the
endpoints' business (``router.endpoints.routes``); how they are matched is decided here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from starlette.types import Receive, Scope, Send

from router.edge.access import Access
from router.edge.context import RequestContext

Handler = Callable[[RequestContext, Scope, Receive, Send], Awaitable[None]]
"""Every endpoint of the router: it serves one request whose context the gate has built."""

GET_HEAD = frozenset({"GET", "HEAD"})
GET = frozenset({"GET"})
POST = frozenset({"POST"})


@dataclass(frozen=True, slots=True)
class Route:
    """One path (or, with ``prefix``, every path under it) and what serves it.

    Attributes:
        path: the exact path, or the prefix every matched path starts with.
        handler: what serves it.
        methods: the methods it takes (others get gin's 405); None takes any. HEAD is listed where
            Ollama answers HEAD, never implied.
        access: the key a request needs.
        prefix: whether ``path`` is a prefix.
    """

    path: str
    handler: Handler
    methods: frozenset[str] | None
    access: Access
    prefix: bool = False

    def allows(self, method: str) -> bool:
        """Whether the route takes ``method``."""
        return self.methods is None or method in self.methods


class RouteTable:
    """Path to route: one dict lookup for exact paths, then the prefixes in their order."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.exact: dict[str, Route] = {}
        self.prefixes: list[Route] = []
        for route in routes:
            if route.prefix:
                self.prefixes.append(route)
            elif route.path in self.exact:
                raise ValueError(f"two routes for {route.path}")
            else:
                self.exact[route.path] = route

    def match(self, path: str) -> Route | None:
        """The route serving ``path``, or None (404)."""
        route = self.exact.get(path)
        if route is not None:
            return route
        for route in self.prefixes:
            if path.startswith(route.path):
                return route
        return None
