"""What the simulator saw: every request and the fate of every stream, for tests to assert on.

The simulator updates these from its own event loop; tests read them from another thread. Each update is
a single attribute assignment or list append, so readers always see a consistent value, and
:meth:`Observations.wait_until` lets them wait for an effect without sleeping a fixed time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ObservedRequest:
    """One request as it arrived.

    Attributes:
        method: the HTTP method, e.g. ``POST``.
        path: the request target's path exactly as sent (still percent-encoded), without the query.
        headers: header names lower-cased; a repeated header keeps its last value.
        body: the raw body bytes.
        query: the query string without ``?`` (empty when there is none).
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: str = ""

    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` if it is not JSON)."""
        return json.loads(self.body)


@dataclass(slots=True)
class Observations:
    """Counters and the request log of one simulator (kept across ``stop``/``start``).

    Attributes:
        requests: every request received, in arrival order.
        disconnects: streams whose client went away before the end.
        completed_streams: streams written to their last byte.
        active_streams: streams currently being written.
        aborted_streams: streams the simulator broke on purpose (``fail_after_lines``, or ``stop()``).
    """

    requests: list[ObservedRequest] = field(default_factory=list)
    disconnects: int = 0
    completed_streams: int = 0
    active_streams: int = 0
    aborted_streams: int = 0

    def wait_until(self, predicate: Callable[[Observations], bool], timeout: float = 5.0) -> bool:
        """Poll ``predicate`` until it holds or ``timeout`` seconds pass; return whether it held."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    def paths(self) -> list[str]:
        """The paths of all requests so far, in order (a convenient assertion target)."""
        return [request.path for request in list(self.requests)]

    def clear(self) -> None:
        """Forget all requests and reset the counters (active streams keep counting)."""
        self.requests.clear()
        self.disconnects = 0
        self.completed_streams = 0
        self.aborted_streams = 0
