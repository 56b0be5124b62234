"""Placement: which replica of which backend a request tries first, by the policy ``FLEET_BALANCE`` names.

Every policy keeps what :func:`router.balancing.selection.rank` decides: open circuits are left out (or
the request is refused at once), lower ``priority`` goes first, and admission (``max_in_flight`` and the
wait queues) works on the backends in the planned order. Policies only order candidates among equals of
one priority:

- ``least-outstanding``: backends by ``(in_flight + queued + 1) / weight``, replicas by their in-flight
  count (what KubeAI and Olla do). Blind to what each replica holds in memory.
- ``round-robin``: every eligible replica of the priority in turn, one request each, blind to load and
  residency: the best a Kubernetes Service spreading connections over pods can do.
- ``warm-first`` (default): by the expected time to first token (:func:`expected_wait`). A replica that
  holds the model and has a free parallel slot (``num_parallel`` of the map, else Ollama's default of 1)
  answers at once. When every warm replica is saturated, the wait in its queue (requests ahead ÷
  ``num_parallel`` × the observed service time) is weighed against a load elsewhere (the observed cold
  time to first byte for that model and pool). When the model is cold everywhere, the load goes where it
  displaces the least: a replica with a free model slot, else one whose resident models are idle and
  least recently used, and last one whose models are all in demand (Ollama would wait for them to finish,
  https://github.com/ollama/ollama/blob/main/server/sched.go ``findRunnerToUnload``). Expected times
  within 25 % of each other count as equal, and equals, ties and unknown models (routed to the default
  backend) fall back to least outstanding ÷ weight, so weights keep their meaning.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from config.model_names import model_key
from router.balancing.backends import Backend
from router.balancing.replicas import Replica
from router.balancing.residency import Residency, Timings
from router.balancing.routing_table import UNROUTED
from router.balancing.selection import Choice, rank

DEFAULT_LOAD_SECONDS = 10.0
"""Assumed load time of a model before the router has seen any load on that pool."""

DEFAULT_SERVICE_SECONDS = 5.0
"""Assumed time a request holds a parallel slot before the router has seen one on that pool."""

EQUAL_WITHIN = 1.25
"""Expected waits whose ratio is below this count as equal (estimates are averages, not promises)."""


class Policy(StrEnum):
    """How requests are spread over the replicas of one priority (``FLEET_BALANCE``)."""

    WARM_FIRST = "warm-first"
    LEAST_OUTSTANDING = "least-outstanding"
    ROUND_ROBIN = "round-robin"


@dataclass(frozen=True, slots=True)
class Plan:
    """Backends in the order admission tries them, and each backend's replicas in the order to try."""

    backends: list[Backend]
    replicas: dict[int, list[Replica]]

    def replicas_of(self, backend: Backend, now: float) -> list[Replica]:
        """The planned replicas of ``backend`` (those still allowed), or its own order if unplanned."""
        planned = self.replicas.get(id(backend))
        if planned is None:
            return backend.eligible(now)
        return [replica for replica in planned if replica.allows(now)]


RUNS_MODEL = frozenset(
    {
        b"/api/generate",
        b"/api/chat",
        b"/api/embed",
        b"/api/embeddings",
        b"/v1/chat/completions",
        b"/v1/completions",
        b"/v1/embeddings",
        b"/v1/responses",
        b"/v1/messages",
    }
)
"""Paths whose requests make Ollama load the model (``show``, ``pull`` and the like do not)."""


def model_of(label: str) -> str | None:
    """The residency key of a request's model label, or None for models routed to the default backend."""
    return None if not label or label == UNROUTED else model_key(label)


def running_model(target: bytes, label: str) -> str | None:
    """The residency key of the model a request runs, or None when it runs none or is not routed by model."""
    return model_of(label) if target.split(b"?", 1)[0] in RUNS_MODEL else None


@dataclass(frozen=True, slots=True)
class Candidate:
    """One replica a request may go to, with what ordering needs to know about it."""

    backend: Backend
    replica: Replica
    priority: int
    weight: float
    index: int

    @property
    def outstanding(self) -> float:
        """Least outstanding ÷ weight, the tie-breaker among equals (as :func:`rank` orders backends)."""
        return (self.backend.in_flight + len(self.backend.waiters) + 1) / self.weight


@dataclass(frozen=True, slots=True)
class Priors:
    """What to assume on a pool that has not shown a time yet: what the other pools of the request showed."""

    load: float = DEFAULT_LOAD_SECONDS
    service: float = DEFAULT_SERVICE_SECONDS

    @classmethod
    def of(cls, backends: Sequence[Backend]) -> Priors:
        """The mean load and service times the candidate backends observed, else the defaults."""
        loads = [t for b in backends if (t := b.timings.load.typical()) is not None]
        services = [t for b in backends if (t := b.timings.service.typical()) is not None]
        return cls(
            sum(loads) / len(loads) if loads else DEFAULT_LOAD_SECONDS,
            sum(services) / len(services) if services else DEFAULT_SERVICE_SECONDS,
        )


def expected_wait(
    model: str, replica: Replica, backend: Backend, now: float, priors: Priors | None = None
) -> tuple[float, int]:
    """Seconds until ``replica`` could start answering ``model``, and a placement tier to break ties.

    Tier 0: warm (or already loading it); 1: cold with a free model slot; 2: cold, evicting an idle
    model; 3: cold, every resident model busy.
    """
    priors = priors or Priors()
    timings, parallel = backend.timings, backend.num_parallel or 1
    residency = replica.residency
    load = _load_seconds(model, timings, priors)
    queued = residency.in_flight.get(model, 0)
    started = residency.loading.get(model)
    if residency.holds(model) or started is not None:
        ahead = max(0, queued - parallel + 1)
        service = _service_seconds(model, timings, priors)
        loading = max(0.0, load - (now - started)) if started is not None else 0.0
        return loading + math.ceil(ahead / parallel) * service, 0
    other_loads = sum(max(0.0, _load_seconds(m, timings, priors) - (now - t)) for m, t in residency.loading.items())
    resident = residency.resident()
    if not resident or len(resident) < timings.most_resident:
        return load + other_loads, 1
    if any(not residency.busy(m) for m in resident):
        return load + other_loads, 2
    wait = min(_service_seconds(m, timings, priors) for m in resident)
    return load + other_loads + wait, 3


def _load_seconds(model: str, timings: Timings, priors: Priors) -> float:
    return timings.load.get(model) or priors.load


def _service_seconds(model: str, timings: Timings, priors: Priors) -> float:
    return timings.service.get(model) or priors.service


def _bucket(seconds: float) -> int:
    """Expected waits on a log scale, so that values within :data:`EQUAL_WITHIN` mostly share a bucket."""
    return -1 if seconds <= 0.001 else math.floor(math.log(seconds * 1000) / math.log(EQUAL_WITHIN))


def _idle_since(residency: Residency) -> float:
    """How recently the replica's idle resident models were used (older is a better eviction victim)."""
    idle = [residency.last_used.get(m, 0.0) for m in residency.resident() if not residency.busy(m)]
    return max(idle, default=0.0)


class Planner:
    """Orders candidates by the configured :class:`Policy`."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._turn = 0

    def plan(self, options: Sequence[Choice], model: str | None, now: float) -> Plan:
        """The plan for one request running ``model`` (a residency key; None for requests that run no known
        model); :class:`Unavailable` if no backend can take it."""
        ranked = rank(options)
        if self.policy is Policy.LEAST_OUTSTANDING or (model is None and self.policy is Policy.WARM_FIRST):
            return Plan(ranked, {})
        by_backend = {id(option.backend): option for option in options}
        candidates = [
            Candidate(backend, replica, by_backend[id(backend)].priority, by_backend[id(backend)].weight, index)
            for index, backend in enumerate(ranked)
            for replica in backend.replicas
            if replica.allows(now)
        ]
        if self.policy is Policy.ROUND_ROBIN:
            ordered = self._rotated(candidates)
        else:
            assert model is not None
            priors = Priors.of(ranked)
            ordered = sorted(candidates, key=lambda c: self._warm_key(c, model, now, priors))
        return _plan_of(ordered, ranked)

    def _rotated(self, candidates: list[Candidate]) -> list[Candidate]:
        """One priority at a time, each rotated by one more step per request."""
        self._turn += 1
        ordered: list[Candidate] = []
        for priority in sorted({c.priority for c in candidates}):
            group = [c for c in candidates if c.priority == priority]
            start = self._turn % len(group)
            ordered += group[start:] + group[:start]
        return ordered

    @staticmethod
    def _warm_key(
        candidate: Candidate, model: str, now: float, priors: Priors
    ) -> tuple[int, int, int, float, float, int, int]:
        backend, replica = candidate.backend, candidate.replica
        wait, tier = expected_wait(model, replica, backend, now, priors)
        recency = _idle_since(replica.residency) if tier == 2 else 0.0
        return (
            candidate.priority,
            _bucket(wait),
            tier,
            recency,
            candidate.outstanding,
            replica.in_flight,
            candidate.index,
        )


def _plan_of(ordered: list[Candidate], ranked: list[Backend]) -> Plan:
    """Backends in order of their best candidate (backends without one keep their rank, last)."""
    backends: list[Backend] = []
    replicas: dict[int, list[Replica]] = {}
    for candidate in ordered:
        key = id(candidate.backend)
        if key not in replicas:
            backends.append(candidate.backend)
            replicas[key] = []
        replicas[key].append(candidate.replica)
    backends += [backend for backend in ranked if id(backend) not in replicas]
    return Plan(backends, replicas)
