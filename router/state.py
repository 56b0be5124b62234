"""Everything one router process holds: settings, the live routing table, backends, metrics, caches.

The routing table is one reference, :attr:`FleetState.table`. :meth:`FleetState.swap_map` replaces it
atomically (a single assignment on the event loop's thread), so a reload never shows a request half of
one map and half of another; backends whose name and URL survive keep their pools and counters.
The lifespan owns the state's network resources and closes them on shutdown.
"""

from __future__ import annotations

from config.model_map import ModelMap
from router.access import KeyChecker
from router.backends import Backend, BackendRegistry
from router.cache import ListingCache
from router.cors import CorsPolicy
from router.metrics import Metrics
from router.routing import RoutingTable
from router.settings import RouterSettings
from router.upstream import Timeouts


class FleetState:
    """The router's process-wide state."""

    def __init__(self, settings: RouterSettings, model_map: ModelMap) -> None:
        self.settings = settings
        self.keys = KeyChecker(settings.api_keys, settings.admin_keys)
        self.cors = CorsPolicy(settings.origins)
        self.metrics = Metrics()
        self.backends = BackendRegistry(settings.connect_timeout)
        self.timeouts = Timeouts(settings.connect_timeout, settings.first_byte_timeout, settings.idle_timeout)
        self.listing_timeouts = Timeouts(settings.connect_timeout, settings.listing_timeout, settings.listing_timeout)
        self.listings = ListingCache(settings.listing_cache)
        self.draining = False
        self.table = RoutingTable(model_map)
        self.backends.sync(list(model_map.backends))

    def swap_map(self, model_map: ModelMap) -> list[Backend]:
        """Make ``model_map`` the live map; returns the backends that left it (to be closed)."""
        table = RoutingTable(model_map)
        removed = self.backends.sync(list(model_map.backends))
        self.table = table
        return removed

    def backend(self, name: str) -> Backend | None:
        """A backend of the live map by name."""
        return self.backends.by_name.get(name)

    def status(self) -> dict[str, object]:
        """What ``/fleet/status`` answers."""
        return {
            "model_map_version": self.table.version,
            "draining": self.draining,
            "in_flight": self.metrics.in_flight,
            "backends": [backend.status() for backend in self.backends.by_name.values()],
        }
