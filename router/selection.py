"""Which backends a request may go to, best first.

Order: lowest ``priority`` first; within a priority, least outstanding requests scaled by ``weight``
(``(in_flight + 1) / weight``, so a weight-3 backend takes three requests for every one of a weight-1
backend under load), then the map's order. Backends whose circuit is open or that are at
``max_in_flight`` are left out; when every backend of the route has an open circuit they are returned
anyway, in the same order, because trying a possibly-recovered backend beats refusing outright.

The proxy sends to the first candidate and, before the first response byte, retries on the next one.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from config.model_map import RouteTarget
from router.backends import Backend


def candidates(targets: Sequence[RouteTarget], backends: Mapping[str, Backend]) -> list[Backend]:
    """The backends to try for a route, in order; empty when all are at their in-flight cap."""
    now = time.monotonic()
    ranked: list[tuple[int, float, int, Backend]] = []
    for index, target in enumerate(targets):
        backend = backends.get(target.name)
        if backend is not None and backend.has_room():
            ranked.append((target.priority, (backend.in_flight + 1) / target.weight, index, backend))
    ranked.sort(key=lambda item: item[:3])
    ordered = [item[3] for item in ranked]
    allowed = [backend for backend in ordered if backend.circuit.allows(now)]
    return allowed or ordered
