"""The runtime side of each backend in the model map: its connection pool, load, circuit and health.

A :class:`Backend` outlives model-map swaps as long as its name and URL stay the same, so reloading the
map keeps warm connections and in-flight counts. Health is passive: it is what the last exchange with
the backend showed (``up``, ``down``, or ``unknown`` before the first one).

The circuit breaker keeps requests away from a backend that keeps failing: after
:data:`FAILURES_TO_OPEN` consecutive failures (no connection, a timeout, a broken response, a 502 or 504)
it opens for :data:`OPEN_SECONDS`, then lets one trial request through (half-open); that request's
outcome closes or re-opens it.
"""

from __future__ import annotations

import time
from enum import StrEnum
from urllib.parse import urlsplit

from config.model_map import Backend as BackendSpec
from router.upstream import ConnectionPool

FAILURES_TO_OPEN = 5
"""Consecutive failures that open a backend's circuit."""

OPEN_SECONDS = 10.0
"""How long an open circuit keeps requests away before a trial request is allowed."""


class CircuitState(StrEnum):
    """Whether requests may go to a backend."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    """Consecutive-failure circuit breaker with a single trial request when half-open."""

    def __init__(self) -> None:
        self.state = CircuitState.CLOSED
        self.failures = 0
        self._opened_at = 0.0
        self._trial_out = False

    def allows(self, now: float) -> bool:
        """Whether a request may be sent now (moves an expired open circuit to half-open)."""
        if self.state is CircuitState.OPEN and now - self._opened_at >= OPEN_SECONDS:
            self.state = CircuitState.HALF_OPEN
            self._trial_out = False
        if self.state is CircuitState.HALF_OPEN:
            return not self._trial_out
        return self.state is CircuitState.CLOSED

    def on_dispatch(self) -> None:
        """A request was sent; when half-open it is the one trial."""
        if self.state is CircuitState.HALF_OPEN:
            self._trial_out = True

    def on_success(self) -> None:
        """The backend answered: close the circuit."""
        self.state = CircuitState.CLOSED
        self.failures = 0
        self._trial_out = False

    def on_failure(self, now: float) -> None:
        """The backend failed: count it, and open the circuit at the threshold or after a failed trial."""
        self.failures += 1
        if self.state is CircuitState.HALF_OPEN or self.failures >= FAILURES_TO_OPEN:
            self.state = CircuitState.OPEN
            self._opened_at = now
            self._trial_out = False


class Backend:
    """One backend of the map at run time."""

    def __init__(self, spec: BackendSpec, *, connect_timeout: float) -> None:
        parts = urlsplit(spec.url)
        if parts.scheme != "http":
            raise ValueError(f"backend {spec.name!r}: only http:// URLs are supported, got {spec.url!r}")
        host = parts.hostname or ""
        port = parts.port or 80
        self.name = spec.name
        self.url = spec.url
        self.max_in_flight = spec.max_in_flight
        self.host_header = parts.netloc.encode("ascii")
        self.name_header = spec.name.encode("ascii")
        self.pool = ConnectionPool(host, port, connect_timeout=connect_timeout)
        self.in_flight = 0
        self.circuit = CircuitBreaker()
        self.health = "unknown"
        self.last_error: str | None = None

    def has_room(self) -> bool:
        """Whether another request fits under ``max_in_flight``."""
        return self.max_in_flight is None or self.in_flight < self.max_in_flight

    def record_success(self) -> None:
        """The backend answered (any HTTP status other than 502/504 counts as an answer)."""
        self.health = "up"
        self.last_error = None
        self.circuit.on_success()

    def record_failure(self, reason: str) -> None:
        """The backend could not be reached or broke the exchange."""
        self.health = "down"
        self.last_error = reason
        self.circuit.on_failure(time.monotonic())

    def status(self) -> dict[str, object]:
        """The backend as ``/fleet/status`` shows it."""
        return {
            "name": self.name,
            "url": self.url,
            "health": self.health,
            "circuit": self.circuit.state.value,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "idle_connections": self.pool.idle_count,
            "last_error": self.last_error,
        }


class BackendRegistry:
    """The live :class:`Backend` objects, kept across model-map swaps when name and URL are unchanged."""

    def __init__(self, connect_timeout: float) -> None:
        self._connect_timeout = connect_timeout
        self.by_name: dict[str, Backend] = {}

    def sync(self, specs: list[BackendSpec]) -> list[Backend]:
        """Match the registry to ``specs``; returns the backends that left it (their pools to close)."""
        current: dict[str, Backend] = {}
        for spec in specs:
            existing = self.by_name.get(spec.name)
            if existing is not None and existing.url == spec.url:
                existing.max_in_flight = spec.max_in_flight
                current[spec.name] = existing
            else:
                current[spec.name] = Backend(spec, connect_timeout=self._connect_timeout)
        removed = [b for name, b in self.by_name.items() if current.get(name) is not b]
        self.by_name = current
        return removed

    async def aclose(self) -> None:
        """Close every backend's connections."""
        for backend in self.by_name.values():
            await backend.pool.aclose()
