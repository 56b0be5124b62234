"""Residency: which models each replica holds in memory, and how long loads and answers take there.

Ollama answers a request for a loaded model at once, and a request for any other model only after
loading it, which takes seconds to a minute and may evict another model
(https://github.com/ollama/ollama/blob/main/server/sched.go). The router keeps, per replica, the models it
believes resident, from two sources:

- its own traffic, at once: a model a replica answered (2xx) is resident there; a model with a request
  sent but not yet answered, and not resident before, is *loading*; an unload (``keep_alive: 0``) that
  the replica answered removes it;
- ``GET /api/ps`` polls (:mod:`router.balancing.ps_poll`), which replace the polled view with the
  replica's own, so several router replicas, and a restarted router, converge on the truth. Entries no
  poll or answer has confirmed for a while age out (:meth:`Residency.prune`).

Per backend (a pool: one GPU type), :class:`Timings` keeps exponentially weighted averages of what the
router observed per model: the time to first byte of a cold request (the load time) and the time a warm
request holds a parallel slot (the service time). Selection (:mod:`router.balancing.placement`) reads both.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

EWMA_ALPHA = 0.3
"""Weight of the newest observation in the load and service time averages."""


class Ewma:
    """Exponentially weighted moving averages by key."""

    def __init__(self) -> None:
        self.values: dict[str, float] = {}

    def observe(self, key: str, value: float) -> None:
        """Fold ``value`` into ``key``'s average (the first observation is the average)."""
        old = self.values.get(key)
        self.values[key] = value if old is None else old + EWMA_ALPHA * (value - old)

    def get(self, key: str) -> float | None:
        """The average for ``key``, or None before any observation."""
        return self.values.get(key)

    def typical(self) -> float | None:
        """The mean of every key's average (a stand-in for a key never observed), or None."""
        return sum(self.values.values()) / len(self.values) if self.values else None


@dataclass(slots=True)
class Timings:
    """What one backend's replicas were seen to take, per model: load (cold first byte) and service time."""

    load: Ewma = field(default_factory=Ewma)
    service: Ewma = field(default_factory=Ewma)
    most_resident: int = 0
    """The most models any replica of the backend was seen holding at once: its model slots, as learned."""


class Residency:
    """The models one replica holds, is loading, and is answering, as this router knows them."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        """Resident models (comparison keys) and when a poll or an answer last confirmed each."""
        self.in_flight: defaultdict[str, int] = defaultdict(int)
        """Requests this router has at the replica, per model."""
        self.loading: dict[str, float] = {}
        """Models sent while not resident and not yet answered: when the first such request left."""
        self.last_used: dict[str, float] = {}
        """When a request for each model last ended at the replica."""

    def holds(self, model: str) -> bool:
        """Whether ``model`` is resident (confirmed and not aged out)."""
        return model in self.seen

    def resident(self) -> list[str]:
        """Resident models, in the order they were confirmed."""
        return list(self.seen)

    def busy(self, model: str) -> bool:
        """Whether a request for ``model`` is in flight here (so Ollama would not evict it)."""
        return self.in_flight.get(model, 0) > 0

    def begin(self, model: str, now: float) -> bool:
        """A request for ``model`` leaves for the replica; returns whether it was warm (resident) there."""
        warm = model in self.seen
        if not warm:
            self.loading.setdefault(model, now)
        self.in_flight[model] += 1
        return warm

    def answered(self, model: str, now: float) -> None:
        """The replica answered a request for ``model`` (2xx): the model is resident, no longer loading."""
        self.seen[model] = now
        self.loading.pop(model, None)

    def end(self, model: str, now: float) -> None:
        """A request for ``model`` is over (answered or failed)."""
        left = self.in_flight[model] - 1
        if left > 0:
            self.in_flight[model] = left
        else:
            self.in_flight.pop(model, None)
            self.loading.pop(model, None)
        self.last_used[model] = now

    def unloaded(self, model: str) -> None:
        """An unload of ``model`` (``keep_alive: 0``) was answered: it is no longer resident."""
        self.seen.pop(model, None)

    def polled(self, models: Iterable[str], asked: float, now: float) -> None:
        """``/api/ps`` asked at ``asked`` listed ``models``: that is the replica's truth, unless an answer
        after the poll left says otherwise."""
        listed = set(models)
        for model in list(self.seen):
            if model not in listed and self.seen[model] < asked:
                del self.seen[model]
        for model in listed:
            self.seen[model] = now
            self.loading.pop(model, None)

    def prune(self, before: float) -> None:
        """Forget resident models nothing confirmed since ``before`` (stale poll data ages out)."""
        for model in [model for model, seen in self.seen.items() if seen < before and not self.busy(model)]:
            del self.seen[model]

    def status(self, load: Ewma) -> dict[str, object]:
        """The replica's residency as ``/fleet/status`` shows it (``load``: its backend's load times)."""
        models = sorted(set(self.seen) | set(self.in_flight) | set(self.loading))
        return {
            "resident": sorted(self.seen),
            "loading": sorted(self.loading),
            "models": {
                model: {
                    "resident": model in self.seen,
                    "in_flight": self.in_flight.get(model, 0),
                    "load_seconds": _rounded(load.get(model)),
                }
                for model in models
            },
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


@dataclass(slots=True)
class Visit:
    """One request for ``model`` at one replica, from dispatch to its end: what it teaches the router.

    ``start`` is ``warm`` (resident), ``joined`` (a load of it was under way) or ``cold`` (this request
    makes the replica load it).
    """

    model: str
    residency: Residency
    timings: Timings
    start: str
    free_slot: bool
    sent: float

    @classmethod
    def begin(cls, model: str, residency: Residency, timings: Timings, parallel: int, now: float) -> Visit:
        """Book the request at the replica."""
        free_slot = residency.in_flight.get(model, 0) < parallel
        loading = model in residency.loading
        warm = residency.begin(model, now)
        start = "warm" if warm else "joined" if loading else "cold"
        return cls(model, residency, timings, start, free_slot, now)

    def answered(self, status: int, now: float) -> None:
        """The response head came: a 2xx means the model is resident; a cold one's wait was its load."""
        if not 200 <= status < 300:
            return
        self.residency.answered(self.model, now)
        if self.start == "cold":
            self.timings.load.observe(self.model, now - self.sent)
        self.timings.most_resident = max(self.timings.most_resident, len(self.residency.seen))

    def end(self, now: float, *, completed: bool) -> None:
        """The request is over; a completed warm one that found a free slot shows the service time."""
        self.residency.end(self.model, now)
        if completed and self.start == "warm" and self.free_slot:
            self.timings.service.observe(self.model, now - self.sent)
