"""External backends' models: does each server outside the cluster hold what the map routes to it?

The stack pulls the models of an in-cluster pool itself; a server outside the cluster is managed by its
owner, who may not have pulled a model yet or may have deleted one. So every ``INVENTORY_ROUNDS`` health
probe intervals (30 s by default), and once at start-up, the router asks each ``external`` backend for its
``/api/tags`` and compares it with the models the live map routes to that backend. ``/fleet/status``
shows the outcome under the backend's ``models``: ``promised``, ``missing``, when it was checked and why
it could not be. A missing model is a warning, logged once per change of the missing set, never an error
of the router: requests for it still go there (and fall back to the route's next backend on Ollama's
"model not found", as any backend's would).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from config.model_names import model_key
from router.balancing.backends import Backend, BackendRegistry
from router.balancing.model_lists import listed_models
from router.balancing.routing_table import RoutingTable
from router.upstream import Timeouts, UpstreamError, exchange

logger = logging.getLogger("router.inventory")

INVENTORY_ROUNDS = 6
"""Probe intervals between two model checks of an external backend."""

TAGS_LIMIT = 4 << 20
"""Largest ``/api/tags`` answer read from a backend."""


def promised_models(table: RoutingTable, backend: str) -> list[str]:
    """The models the map routes to ``backend``, in map order."""
    return [route.model for route in table.model_map.routes if any(t.name == backend for t in route.backends)]


def _held(document: Any) -> set[str]:
    """Comparison keys of the models an ``/api/tags`` answer lists (none if it is not a listing)."""
    return set(listed_models(document) or ())


async def fetch_tags(backend: Backend, timeouts: Timeouts) -> set[str]:
    """The models ``backend`` holds now; raises UpstreamError, TimeoutError or ValueError."""
    replica = backend.replicas[0]
    head = backend.json_request(b"/api/tags", b"fleet-inventory")
    async with asyncio.timeout(timeouts.first_byte):
        upstream = await exchange(replica.pool, head, timeouts)
        try:
            body = await upstream.body(TAGS_LIMIT)
        finally:
            upstream.close()
    if upstream.status != 200:
        raise ValueError(f"/api/tags answered {upstream.status}")
    return _held(json.loads(body))


class Inventory:
    """Checks the external backends' models and remembers what it last logged for each."""

    def __init__(self, backends: BackendRegistry, table: Callable[[], RoutingTable], timeouts: Timeouts) -> None:
        self.backends = backends
        self.table = table
        self.timeouts = timeouts
        self._logged: dict[str, tuple[str, ...]] = {}

    async def check_all(self) -> None:
        """One round: every external backend of the live map, at once."""
        table = self.table()
        external = [backend for backend in self.backends.by_name.values() if backend.external]
        await asyncio.gather(*(self.check(backend, promised_models(table, backend.name)) for backend in external))

    async def check(self, backend: Backend, promised: list[str]) -> None:
        """Compare ``backend``'s ``/api/tags`` with ``promised`` and record the outcome on it."""
        report: dict[str, object] = {"checked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        report["promised"] = promised
        try:
            held = await fetch_tags(backend, self.timeouts)
        except (UpstreamError, TimeoutError, ValueError) as error:
            report |= {"missing": None, "error": f"cannot list its models: {error or 'no answer in time'}"}
            backend.inventory = report
            return
        missing = [model for model in promised if model_key(model) not in held]
        report |= {"missing": missing, "error": None}
        backend.inventory = report
        if tuple(missing) != self._logged.get(backend.name, ()):
            self._logged[backend.name] = tuple(missing)
            if missing:
                logger.warning(
                    "external backend lacks models the map routes to it",
                    extra={"backend": backend.name, "missing": missing},
                )

    async def run(self, interval: float) -> None:
        """A round now, then every ``interval`` seconds until cancelled (a lifespan-owned task)."""
        while True:
            try:
                await self.check_all()
            except Exception:
                logger.exception("checking the external backends' models failed")
            await asyncio.sleep(interval)
