"""One address of a backend: its own connection pool, in-flight count, circuit breaker and health.

A backend of the model map is a Service URL. Without ``resolve`` it has one replica, the URL's host as
written (kube-proxy spreads connections over the pods behind it). With ``resolve: true`` (a headless
Service) every address the host resolves to is a replica of its own, so the router spreads *requests*
over the pods, not kept-alive connections, and a pod that fails is taken out of rotation alone.

Health is what the last exchange or probe showed: ``up``, ``down``, or ``unknown`` before the first.
Residency (:mod:`router.balancing.residency`) is which models it holds, as the router knows it.
Circuit transitions are logged (the request id is attached when a request caused them).
"""

from __future__ import annotations

import logging
import time
from enum import StrEnum

from router.balancing.circuit import CircuitBreaker, CircuitPolicy, CircuitState
from router.balancing.residency import Ewma, Residency
from router.upstream import ConnectionPool, Upstream

logger = logging.getLogger("router.health")


class Health(StrEnum):
    """What the last request or probe said about a replica (a backend: the best of its replicas)."""

    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"


def address_label(host: str, port: int) -> str:
    """``host:port``, with brackets around an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Replica:
    """One address of a backend, with everything the router tracks about it."""

    def __init__(
        self,
        backend: str,
        host: str,
        port: int,
        *,
        connect_timeout: float,
        policy: CircuitPolicy,
        upstream: Upstream | None = None,
    ) -> None:
        self.backend = backend
        self.host = host
        self.address = address_label(host, port)
        self.pool = ConnectionPool(host, port, connect_timeout=connect_timeout, upstream=upstream)
        self.in_flight = 0
        self.circuit = CircuitBreaker(policy)
        self.health = Health.UNKNOWN
        self.last_error: str | None = None
        self.last_probe: str | None = None
        self.residency = Residency()

    def allows(self, now: float) -> bool:
        """Whether a request may be sent to this replica now (its circuit is closed or offers a trial)."""
        return self.circuit.allows(now)

    def record_success(self) -> None:
        """The replica answered with something other than a 5xx."""
        self.health = Health.UP
        self.last_error = None
        if self.circuit.on_success():
            logger.info("circuit closed", extra={"backend": self.backend, "replica": self.address})

    def record_failure(self, reason: str) -> None:
        """The replica could not be reached, broke the exchange, or answered with a 5xx."""
        self.health = Health.DOWN
        self.last_error = reason
        if self.circuit.on_failure(time.monotonic()):
            logger.warning(
                "circuit opened",
                extra={"backend": self.backend, "replica": self.address, "reason": reason},
            )

    def reset(self) -> None:
        """Forget what is known about the replica's health (a fresh circuit, health unknown)."""
        self.circuit = CircuitBreaker(self.circuit.policy)
        self.health = Health.UNKNOWN
        self.last_error = None

    @property
    def healthy(self) -> bool:
        """Whether requests flow to it freely: its circuit is closed."""
        return self.circuit.state is CircuitState.CLOSED

    def status(self, load: Ewma | None = None) -> dict[str, object]:
        """The replica as ``/fleet/status`` shows it (``load``: its backend's observed load times)."""
        return {
            "address": self.address,
            "health": self.health,
            "circuit": self.circuit.state.value,
            "in_flight": self.in_flight,
            "idle_connections": self.pool.idle_count,
            "last_error": self.last_error,
            "last_probe": self.last_probe,
            **self.residency.status(load or Ewma()),
        }
