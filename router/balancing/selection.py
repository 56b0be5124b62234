"""Which backends a request may go to, best first, and the fast refusal when none can take it.

Order: lowest ``priority`` first; within a priority, least outstanding requests scaled by ``weight``
(``(in_flight + queued + 1) / weight``, so a weight-3 backend takes three requests for every one of a
weight-1 backend under load), then the map's order. A backend is left out while none of its replicas'
circuits lets a request through. That is a deliberate choice: when every candidate's circuit is open
and no half-open trial is due, the client gets an immediate 503 with ``Retry-After`` (seconds until the
first trial is due) instead of a request sent to a backend known to be failing; once a trial is due,
the request that comes along is that trial. Caps (``max_in_flight``) are not decided here but by
admission (:mod:`router.balancing.admission`), which takes the first ranked backend with room. Placement
(:mod:`router.balancing.placement`) keeps this ranking's priorities and exclusions and may reorder
candidates within a priority (by residency, with ``warm-first``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from config.model_map import RouteTarget
from router.balancing.backends import Backend
from router.refusal import Refusal
from router.telemetry.metrics import Reason


class Unavailable(Refusal):
    """No backend can take the request now: a 503 with ``Retry-After`` in the path's error shape."""

    def __init__(self, message: str, retry_after: float, reason: Reason) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(503, message, [(b"retry-after", b"%d" % self.retry_after)])
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Choice:
    """A backend a request may use, with the route's priority and weight for it."""

    backend: Backend
    priority: int = 0
    weight: float = 1.0


def choices(targets: Sequence[RouteTarget], backends: Mapping[str, Backend]) -> list[Choice]:
    """The route's backends that exist in the live map, in route order."""
    found = ((backends.get(target.name), target) for target in targets)
    return [Choice(backend, target.priority, target.weight) for backend, target in found if backend is not None]


def rank(options: Sequence[Choice]) -> list[Backend]:
    """The backends to try, best first; :class:`Unavailable` when every circuit is open."""
    now = time.monotonic()
    ranked: list[tuple[int, float, int, Backend]] = []
    for index, option in enumerate(options):
        backend = option.backend
        if backend.available(now):
            load = (backend.in_flight + len(backend.waiters) + 1) / option.weight
            ranked.append((option.priority, load, index, backend))
    if not ranked:
        names = ", ".join(option.backend.name for option in options)
        wait = min((option.backend.retry_in(now) for option in options), default=1.0)
        message = f"every backend for this model is failing (circuit open: {names}); retry in {math.ceil(wait)} s"
        raise Unavailable(message, wait, Reason.CIRCUIT_OPEN)
    ranked.sort(key=lambda item: item[:3])
    return [item[3] for item in ranked]
