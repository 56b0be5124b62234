"""Everything one router process holds: settings, the live routing table, backends, metrics, caches.

Only the runtime holds the whole of it; each room is given the parts it uses (the endpoints see it
through :class:`router.endpoints.fleet.Fleet`, the gate gets its metrics, CORS policy and key checker).

The routing table is one reference, :attr:`FleetState.table`. :meth:`FleetState.swap_map` replaces it
atomically (a single assignment on the event loop's thread), so a reload never shows a request half of
one map and half of another. Backends whose name, URL and ``resolve`` flag survive keep their pools,
counters and circuits; the others are retired, and requests already using them keep their objects and
finish on them. The lifespan owns the state's network resources and background tasks and closes them.
"""

from __future__ import annotations

import time

from config.errors import ConfigError
from config.model_map import ModelMap
from router.balancing.admission import QueueLimits
from router.balancing.attempts import Balancer
from router.balancing.backends import Backend, BackendRegistry
from router.balancing.circuit import CircuitPolicy
from router.balancing.placement import Planner, Policy
from router.balancing.routing_table import RoutingTable
from router.balancing.scaler import Scaler
from router.edge.access import KeyChecker
from router.edge.cors import CorsPolicy
from router.edge.hosts import HostPolicy
from router.endpoints.cache import ListingCache
from router.runtime.settings import RouterSettings
from router.telemetry.metrics import Metrics
from router.upstream import Timeouts


def _utc(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


class FleetState:
    """The router's process-wide state."""

    def __init__(self, settings: RouterSettings, model_map: ModelMap) -> None:
        self.settings = settings
        self.keys = KeyChecker(settings.api_keys, settings.admin_keys)
        self.cors = CorsPolicy(settings.origins)
        self.hosts = HostPolicy(settings.allowed_hosts, settings.host)
        self.metrics = Metrics()
        policy = CircuitPolicy(settings.circuit_failures, settings.circuit_open_seconds)
        self.backends = BackendRegistry(settings.connect_timeout, policy)
        self.timeouts = Timeouts(settings.connect_timeout, settings.first_byte_timeout, settings.idle_timeout)
        self.listing_timeouts = Timeouts(settings.connect_timeout, settings.listing_timeout, settings.listing_timeout)
        self.probe_timeouts = Timeouts(settings.connect_timeout, settings.probe_timeout, settings.probe_timeout)
        self.queue_limits = QueueLimits(settings.queue_length, settings.queue_wait)
        planner = Planner(Policy(settings.balance))
        self.balancer = Balancer(self.queue_limits, self.timeouts, self.metrics, settings.retry_deadline, planner)
        self.max_body_bytes = settings.max_body_bytes
        self.listing_timeout = settings.listing_timeout
        self.listings = ListingCache(settings.listing_cache)
        self.draining = False
        self.table = RoutingTable(model_map)
        self.backends.sync(list(model_map.backends))
        self.scaler = Scaler(self.backends, self.metrics.scale, self.probe_timeouts)
        self.map_loaded_at = time.time()
        self.reload_error: dict[str, object] | None = None

    def swap_map(self, model_map: ModelMap) -> tuple[list[Backend], list[Backend]]:
        """Make ``model_map`` the live map; returns the backends added and those retired."""
        table = RoutingTable(model_map)
        added, removed = self.backends.sync(list(model_map.backends))
        self.table = table
        self.map_loaded_at = time.time()
        self.reload_error = None
        self.listings.clear()
        self.metrics.reloads["applied"] += 1
        return added, removed

    def reject_map(self, error: ConfigError) -> None:
        """Remember why a new map file was refused (the old map stays in force)."""
        self.reload_error = {
            "time": _utc(time.time()),
            "source": error.source,
            "problems": [str(problem) for problem in error.problems],
        }
        self.metrics.reloads["rejected"] += 1

    def backend(self, name: str) -> Backend | None:
        """A backend of the live map by name."""
        return self.backends.by_name.get(name)

    def status(self) -> dict[str, object]:
        """What ``/fleet/status`` answers."""
        return {
            "model_map_version": self.table.version,
            "model_map": {
                "path": str(self.settings.model_map),
                "version": self.table.version,
                "loaded_at": _utc(self.map_loaded_at),
                "last_reload_error": self.reload_error,
            },
            "draining": self.draining,
            "in_flight": self.metrics.in_flight,
            "backends": [backend.status() for backend in self.backends.by_name.values()],
            "scaling": self.scaler.status(),
        }
