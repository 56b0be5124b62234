"""The runtime side of each backend in the model map: its replicas, its request slots and wait queue.

A :class:`Backend` outlives model-map swaps as long as its name, URL and ``resolve`` flag stay the same,
so reloading the map keeps warm connections, in-flight counts and circuit state. Its replicas
(:mod:`router.balancing.replicas`) each have a pool, a load and a circuit; the backend's health aggregates them.

Slots: ``in_flight`` counts the requests the backend holds (admitted, not yet finished), and
``max_in_flight`` caps it when the map sets one. A request that finds every candidate full may wait in
a backend's FIFO queue (:mod:`router.balancing.admission`); :meth:`Backend.release` hands a freed slot straight to
the first waiter, so waiters are served in order and a newcomer never jumps the queue.
"""

from __future__ import annotations

import asyncio
from collections import deque
from urllib.parse import urlsplit

from config.errors import Problem
from config.model_map import Backend as BackendSpec
from config.model_map import ModelMap
from router.balancing.circuit import CircuitPolicy, CircuitState
from router.balancing.replicas import Health, Replica
from router.balancing.residency import Timings
from router.telemetry.metrics import BackendGauges
from router.upstream import ConnectionPool, Upstream
from router.upstream.headers import request_head

SCHEMES = {"http": 80, "https": 443}
"""URL schemes the upstream client speaks, with their default ports."""


def backend_problems(model_map: ModelMap) -> list[Problem]:
    """What the router cannot serve in an otherwise valid map (each problem names its path)."""
    problems = []
    for index, spec in enumerate(model_map.backends):
        if urlsplit(spec.url).scheme not in SCHEMES:
            fix = "use http:// (inside the cluster) or https:// (a server beyond it)"
            problems.append(
                Problem(
                    f"backends[{index}].url", f"only http:// and https:// URLs are supported, got {spec.url!r}", fix
                )
            )
        elif spec.ca_file is not None and not spec.url.startswith("https://"):
            fix = "use an https:// URL, or remove ca_file"
            problems.append(Problem(f"backends[{index}].ca_file", "only applies to an https:// URL", fix))
    return problems


def _identity(spec: BackendSpec) -> tuple[object, ...]:
    """What a backend must keep across a reload to keep its connections, counters and circuits."""
    return spec.url, spec.resolve, spec.ca_file, spec.token_file


class Backend:
    """One backend of the map at run time."""

    def __init__(self, spec: BackendSpec, *, connect_timeout: float, policy: CircuitPolicy | None = None) -> None:
        parts = urlsplit(spec.url)
        if parts.scheme not in SCHEMES:
            raise ValueError(f"backend {spec.name!r}: only http:// and https:// URLs are supported, got {spec.url!r}")
        self.spec = spec
        self.name = spec.name
        self.url = spec.url
        self.resolve = spec.resolve
        self.external = spec.external
        self.max_in_flight = spec.max_in_flight
        self.num_parallel = spec.num_parallel
        self.timings = Timings()
        self.scale = spec.scale
        self.hostname = parts.hostname or ""
        self.port = parts.port or SCHEMES[parts.scheme]
        self.host_header = parts.netloc.encode("ascii")
        self.name_header = spec.name.encode("ascii")
        https = parts.scheme == "https"
        self.upstream: Upstream | None = None
        if https or spec.token_file is not None:
            self.upstream = Upstream.create(
                self.hostname, https=https, ca_file=spec.ca_file, token_file=spec.token_file
            )
        self.inventory: dict[str, object] | None = None
        """An external backend's last model check (:mod:`router.balancing.inventory`), shown in the status."""
        self._connect_timeout = connect_timeout
        self._policy = policy or CircuitPolicy()
        self.replicas: list[Replica] = [self._replica(self.hostname)]
        self.in_flight = 0
        self.taken = 0
        """Slots taken since start: a change means the backend was used (scale to zero reads it as activity)."""
        self.waiters: deque[asyncio.Future[None]] = deque()
        self._turn = 0

    def _replica(self, host: str) -> Replica:
        return Replica(
            self.name,
            host,
            self.port,
            connect_timeout=self._connect_timeout,
            policy=self._policy,
            upstream=self.upstream,
        )

    @property
    def authorization(self) -> bytes | None:
        """The ``Authorization`` value this backend is sent (its token file's), or None."""
        upstream = self.upstream
        return upstream.authorization if upstream is not None else None

    def json_request(self, path: bytes, request_id: bytes) -> bytes:
        """The head of a request the router itself makes (probes, polls, listings): ``GET path`` for JSON, with
        this backend's Host and, for a server outside the cluster, its token."""
        return request_head(
            "GET",
            path,
            self.host_header,
            [(b"accept", b"application/json")],
            request_id=request_id,
            content_length=0,
            authorization=self.authorization,
        )

    # -- slots -----------------------------------------------------------------------------------

    def has_room(self) -> bool:
        """Whether another request fits under ``max_in_flight``."""
        return self.max_in_flight is None or self.in_flight < self.max_in_flight

    def try_occupy(self) -> bool:
        """Take a slot if one is free (never past the cap, never ahead of a waiter)."""
        if self.waiters or not self.has_room():
            return False
        self.in_flight += 1
        self.taken += 1
        return True

    def release(self) -> None:
        """Give a slot back; the first waiter (if any) gets it at once."""
        self.in_flight -= 1
        self.wake()

    def wake(self) -> None:
        """Hand free slots to waiters in arrival order (after a release, or when the cap was raised)."""
        waiters = self.waiters
        while waiters and self.has_room():
            waiter = waiters.popleft()
            if not waiter.done():
                self.in_flight += 1
                self.taken += 1
                waiter.set_result(None)

    # -- replicas --------------------------------------------------------------------------------

    def eligible(self, now: float) -> list[Replica]:
        """Replicas a request may go to now, least in flight first; ties rotate between requests."""
        replicas = self.replicas
        if len(replicas) == 1:
            return replicas if replicas[0].allows(now) else []
        self._turn += 1
        start = self._turn % len(replicas)
        rotated = replicas[start:] + replicas[:start]
        return sorted((r for r in rotated if r.allows(now)), key=lambda r: r.in_flight)

    def available(self, now: float) -> bool:
        """Whether some replica's circuit lets a request through now."""
        return any(replica.allows(now) for replica in self.replicas)

    def retry_in(self, now: float) -> float:
        """Seconds until some replica lets a request through."""
        return min((replica.circuit.retry_in(now) for replica in self.replicas), default=0.0)

    def set_addresses(self, addresses: list[str]) -> list[Replica]:
        """Make ``addresses`` the replicas (unchanged ones are kept); returns the replicas that left."""
        current = {replica.host: replica for replica in self.replicas}
        if sorted(current) == sorted(addresses):
            return []
        self.replicas = [current.get(address) or self._replica(address) for address in addresses]
        kept = {id(replica) for replica in self.replicas}
        return [replica for replica in current.values() if id(replica) not in kept]

    # -- health ----------------------------------------------------------------------------------

    @property
    def health(self) -> Health:
        """``up`` if any replica is up, ``down`` if all are down, else ``unknown``."""
        states = {replica.health for replica in self.replicas}
        if Health.UP in states:
            return Health.UP
        return Health.DOWN if states == {Health.DOWN} else Health.UNKNOWN

    @property
    def circuit(self) -> CircuitState:
        """``closed`` if any replica's circuit is closed, else ``half-open`` if any is, else ``open``."""
        states = {replica.circuit.state for replica in self.replicas}
        for state in (CircuitState.CLOSED, CircuitState.HALF_OPEN):
            if state in states:
                return state
        return CircuitState.OPEN

    def gauges(self) -> BackendGauges:
        """The backend as the ``/metrics`` gauges show it."""
        circuit = self.circuit
        closed = circuit is CircuitState.CLOSED
        return BackendGauges(self.name, closed, circuit.value, self.in_flight, len(self.waiters), len(self.replicas))

    def status(self) -> dict[str, object]:
        """The backend as ``/fleet/status`` shows it."""
        errors = [replica.last_error for replica in self.replicas if replica.last_error]
        return {
            "name": self.name,
            "url": self.url,
            "resolve": self.resolve,
            "health": self.health,
            "healthy": self.circuit is CircuitState.CLOSED,
            "circuit": self.circuit.value,
            "in_flight": self.in_flight,
            "max_in_flight": self.max_in_flight,
            "queued": len(self.waiters),
            "idle_connections": sum(replica.pool.idle_count for replica in self.replicas),
            "last_error": errors[0] if errors else None,
            "num_parallel": self.num_parallel,
            "load_seconds": {model: round(value, 3) for model, value in sorted(self.timings.load.values.items())},
            "replicas": [replica.status(self.timings.load) for replica in self.replicas],
            **self._external_status(),
        }

    def _external_status(self) -> dict[str, object]:
        """For a server outside the cluster: whether it answers (None before the first exchange) and holds the
        models routed to it (:mod:`router.balancing.inventory`)."""
        if not self.external:
            return {}
        upstream = self.upstream
        return {
            "external": True,
            "answers": None if self.health is Health.UNKNOWN else self.health is Health.UP,
            "tls": upstream is not None and upstream.https,
            "credentials_error": upstream.last_error if upstream is not None else None,
            "models": self.inventory,
        }


class BackendRegistry:
    """The live :class:`Backend` objects, and the pools of replicas that left but still carry answers."""

    def __init__(self, connect_timeout: float, policy: CircuitPolicy | None = None) -> None:
        self._connect_timeout = connect_timeout
        self._policy = policy or CircuitPolicy()
        self.by_name: dict[str, Backend] = {}
        self.retired: list[ConnectionPool] = []

    def sync(self, specs: list[BackendSpec]) -> tuple[list[Backend], list[Backend]]:
        """Match the registry to ``specs``; returns the backends added and those that left (retired)."""
        current: dict[str, Backend] = {}
        added: list[Backend] = []
        for spec in specs:
            existing = self.by_name.get(spec.name)
            if existing is not None and _identity(existing.spec) == _identity(spec):
                existing.max_in_flight = spec.max_in_flight
                existing.num_parallel = spec.num_parallel
                existing.scale = spec.scale
                existing.wake()
                current[spec.name] = existing
            else:
                current[spec.name] = Backend(spec, connect_timeout=self._connect_timeout, policy=self._policy)
                added.append(current[spec.name])
        removed = [b for name, b in self.by_name.items() if current.get(name) is not b]
        self.by_name = current
        self.retire([replica for backend in removed for replica in backend.replicas])
        return added, removed

    def refresh_credentials(self) -> None:
        """Read the token and CA files of the live backends again where they changed (a rotated Secret)."""
        for backend in self.by_name.values():
            if backend.upstream is not None:
                backend.upstream.refresh()

    def retire(self, replicas: list[Replica]) -> None:
        """Stop using ``replicas``: their pools take no new request and close as their answers end."""
        self.retired = [pool for pool in self.retired if pool.lent_count]
        for replica in replicas:
            replica.pool.retire()
            if replica.pool.lent_count:
                self.retired.append(replica.pool)

    async def aclose(self) -> None:
        """Close every connection, of live backends and of retired replicas alike."""
        for backend in self.by_name.values():
            for replica in backend.replicas:
                await replica.pool.aclose()
        for pool in self.retired:
            await pool.aclose()
        self.retired = []
