"""Prometheus metrics, kept as plain counters and rendered as text on ``/metrics``.

Everything is updated once per request except the streamed-line count, which the relay loop adds up in a
local variable (``chunk.count(b"\\n")``) and stores when the stream ends. Labels are bounded: endpoints
are the router's own names, models are the map's canonical names (or ``(unrouted)``), backends are the
map's names. No client-supplied string ever becomes a label.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from enum import StrEnum
from typing import NamedTuple

from router.telemetry.histogram import Histogram, label
from router.telemetry.scale_metrics import ScaleMetrics

TTFB_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
STREAM_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)


CIRCUIT_STATES = ("closed", "half-open", "open")


class Reason(StrEnum):
    """Why a request ended in an error or moved on: the ``reason`` label of the error and retry counters."""

    INTERNAL = "internal"
    REFUSED = "refused"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    BAD_REQUEST = "bad_request"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    MIDSTREAM = "midstream"
    SHUTDOWN = "shutdown"
    CLIENT_GONE = "client_gone"
    CIRCUIT_OPEN = "circuit_open"
    OVERLOADED = "overloaded"
    MODEL_NOT_FOUND = "model_not_found"
    WAKING = "waking"
    SCALE_API = "scale_api"


class BackendGauges(NamedTuple):
    """One backend's state now, as the gauges show it."""

    name: str
    healthy: bool
    circuit: str
    in_flight: int
    queued: int
    replicas: int


def backend_lines(backends: Sequence[BackendGauges]) -> list[str]:
    """The per-backend gauges: healthy, circuit state (one series per state), in flight, queued, replicas."""
    out: list[str] = []
    gauges = (
        ("healthy", "1 when the backend's circuit is closed (requests flow to it freely).", "healthy"),
        ("in_flight", "Requests at each backend now.", "in_flight"),
        ("queued", "Requests waiting for a slot at each backend.", "queued"),
        ("replicas", "Addresses each backend has (resolve: true backends have one per pod).", "replicas"),
    )
    for name, help_text, field in gauges:
        out += [f"# HELP fleet_backend_{name} {help_text}", f"# TYPE fleet_backend_{name} gauge"]
        for backend in sorted(backends):
            out.append(f'fleet_backend_{name}{{backend="{label(backend.name)}"}} {int(getattr(backend, field))}')
    out += [
        "# HELP fleet_backend_circuit Circuit state of each backend: 1 for its current state.",
        "# TYPE fleet_backend_circuit gauge",
    ]
    for backend in sorted(backends):
        for state in CIRCUIT_STATES:
            value = int(backend.circuit == state)
            out.append(f'fleet_backend_circuit{{backend="{label(backend.name)}",state="{state}"}} {value}')
    return out


class Metrics:
    """The router's counters, gauges and histograms."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.requests: defaultdict[tuple[str, str, int], int] = defaultdict(int)
        self.errors: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.lines: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.ttfb: dict[str, Histogram] = {}
        self.stream: dict[str, Histogram] = {}
        self.retries: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.reloads: defaultdict[str, int] = defaultdict(int)
        self.placements: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        self.scale = ScaleMetrics()

    def request_done(self, endpoint: str, method: str, status: int) -> None:
        """Count a finished request."""
        self.requests[(endpoint, method, status)] += 1

    def error(self, endpoint: str, reason: Reason) -> None:
        """Count an error by its reason (``unreachable``, ``timeout``, ``midstream``, ``refused`` ...)."""
        self.errors[(endpoint, reason)] += 1

    def retry(self, backend: str, reason: str) -> None:
        """A request left ``backend`` for the next candidate before its first byte."""
        self.retries[(backend, reason)] += 1

    def placement(self, model: str, backend: str, start: str) -> None:
        """A request left for a replica where ``model`` was ``warm``, loading (``joined``) or ``cold``."""
        self.placements[(start, model, backend)] += 1

    def first_byte(self, backend: str, seconds: float) -> None:
        """Time from the request to the backend's response head."""
        histogram = self.ttfb.get(backend)
        if histogram is None:
            histogram = self.ttfb[backend] = Histogram(TTFB_BUCKETS)
        histogram.observe(seconds)

    def stream_done(self, model: str, backend: str, seconds: float, lines: int) -> None:
        """A relayed body ended: its duration and the lines it carried."""
        histogram = self.stream.get(backend)
        if histogram is None:
            histogram = self.stream[backend] = Histogram(STREAM_BUCKETS)
        histogram.observe(seconds)
        if lines:
            self.lines[(model, backend)] += lines

    def render(self, backends: Sequence[BackendGauges], draining: bool) -> str:
        """Prometheus text exposition format 0.0.4."""
        out = [
            "# HELP fleet_requests_total Requests served, by endpoint, method and status.",
            "# TYPE fleet_requests_total counter",
        ]
        for (endpoint, method, status), count in sorted(self.requests.items()):
            out.append(f'fleet_requests_total{{endpoint="{endpoint}",method="{method}",status="{status}"}} {count}')
        out += ["# HELP fleet_errors_total Errors, by endpoint and reason.", "# TYPE fleet_errors_total counter"]
        for (endpoint, reason), count in sorted(self.errors.items()):
            out.append(f'fleet_errors_total{{endpoint="{endpoint}",reason="{reason}"}} {count}')
        out += [
            "# HELP fleet_retries_total Requests moved to the next backend before the first byte, by reason.",
            "# TYPE fleet_retries_total counter",
        ]
        for (backend, reason), count in sorted(self.retries.items()):
            out.append(f'fleet_retries_total{{backend="{label(backend)}",reason="{reason}"}} {count}')
        out += ["# HELP fleet_in_flight Requests being served now.", "# TYPE fleet_in_flight gauge"]
        out.append(f"fleet_in_flight {self.in_flight}")
        out += ["# HELP fleet_draining 1 while the router drains before exiting.", "# TYPE fleet_draining gauge"]
        out.append(f"fleet_draining {int(draining)}")
        out += [
            "# HELP fleet_model_map_reloads_total Model-map files applied or rejected since start.",
            "# TYPE fleet_model_map_reloads_total counter",
        ]
        for result in ("applied", "rejected"):
            out.append(f'fleet_model_map_reloads_total{{result="{result}"}} {self.reloads[result]}')
        out += backend_lines(backends)
        out += self._placements()
        out += self._histograms()
        out += self.scale.render()
        out += [
            "# HELP fleet_streamed_lines_total Response lines relayed, by model and backend.",
            "# TYPE fleet_streamed_lines_total counter",
        ]
        for (model, backend), count in sorted(self.lines.items()):
            out.append(f'fleet_streamed_lines_total{{model="{label(model)}",backend="{label(backend)}"}} {count}')
        return "\n".join(out) + "\n"

    def _placements(self) -> list[str]:
        out: list[str] = []
        for start, name, help_text in (
            ("cold", "fleet_cold_starts_total", "Requests that made a replica load their model, by model and backend."),
            ("warm", "fleet_warm_hits_total", "Requests sent where their model was resident, by model and backend."),
        ):
            out += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
            for (kind, model, backend), count in sorted(self.placements.items()):
                if kind == start:
                    out.append(f'{name}{{model="{label(model)}",backend="{label(backend)}"}} {count}')
        return out

    def _histograms(self) -> list[str]:
        out = [
            "# HELP fleet_time_to_first_byte_seconds Time from forwarding a request to the backend's first byte.",
            "# TYPE fleet_time_to_first_byte_seconds histogram",
        ]
        for name, histogram in sorted(self.ttfb.items()):
            out.extend(histogram.render("fleet_time_to_first_byte_seconds", f'backend="{label(name)}"'))
        out += [
            "# HELP fleet_stream_duration_seconds Time from a backend's first byte to the end of its answer.",
            "# TYPE fleet_stream_duration_seconds histogram",
        ]
        for name, histogram in sorted(self.stream.items()):
            out.extend(histogram.render("fleet_stream_duration_seconds", f'backend="{label(name)}"'))
        return out
