"""What the endpoints see of the running fleet: the parts they use, and nothing of the process around it."""

from __future__ import annotations

from typing import Protocol

from router.balancing.attempts import Balancer
from router.balancing.backends import Backend, BackendRegistry
from router.balancing.routing_table import RoutingTable
from router.balancing.scaler import Scaler
from router.endpoints.cache import ListingCache
from router.telemetry.metrics import Metrics
from router.upstream import Timeouts


class Fleet(Protocol):
    """The live fleet as handlers use it; the runtime's state provides it.

    ``table`` is read on every request, never kept: a model-map reload replaces it.
    """

    @property
    def table(self) -> RoutingTable:
        """The live routing table."""

    @property
    def backends(self) -> BackendRegistry:
        """Every backend of the live map."""

    @property
    def metrics(self) -> Metrics:
        """The process's metrics."""

    @property
    def listings(self) -> ListingCache:
        """The cache of merged listings."""

    @property
    def balancer(self) -> Balancer:
        """Retries and fallback before the first byte."""

    @property
    def scaler(self) -> Scaler:
        """Pools that scale to zero: which candidates may serve now, and waking the others."""

    @property
    def timeouts(self) -> Timeouts:
        """Deadlines for requests relayed to a backend."""

    @property
    def listing_timeouts(self) -> Timeouts:
        """Deadlines for each backend's part of a merged listing."""

    @property
    def max_body_bytes(self) -> int:
        """The largest request body read into memory."""

    @property
    def listing_timeout(self) -> float:
        """Seconds one backend may take over its part of a merged listing."""

    @property
    def draining(self) -> bool:
        """Whether the process is shutting down."""

    def backend(self, name: str) -> Backend | None:
        """A backend of the live map by name."""

    def status(self) -> dict[str, object]:
        """What ``/fleet/status`` answers."""
