"""Scale-to-zero metrics: wakes, sleeps, how long wakes took, and what became of the requests that waited.

Labels are the map's backend names and a fixed set of outcomes, never anything a client sent.
"""

from __future__ import annotations

from collections import defaultdict
from enum import StrEnum

from router.telemetry.histogram import Histogram, label

WAKE_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 180.0, 300.0, 450.0, 600.0, 900.0, 1800.0, 3600.0)
"""A GPU node, its driver and a model load take minutes; a pod on a warm node takes seconds."""


class Held(StrEnum):
    """What became of a request held for a wake."""

    SERVED = "served"
    TIMED_OUT = "timed_out"
    LEFT = "left"
    FAILED = "failed"


class ScaleMetrics:
    """Counters and a histogram for pools that scale to zero."""

    def __init__(self) -> None:
        self.wakes: defaultdict[str, int] = defaultdict(int)
        self.sleeps: defaultdict[str, int] = defaultdict(int)
        self.held: defaultdict[tuple[str, Held], int] = defaultdict(int)
        self.wake_seconds: dict[str, Histogram] = {}

    def woke(self, backend: str, seconds: float) -> None:
        """A wake finished: the pool answers again after ``seconds``."""
        histogram = self.wake_seconds.get(backend)
        if histogram is None:
            histogram = self.wake_seconds[backend] = Histogram(WAKE_BUCKETS)
        histogram.observe(seconds)

    def render(self) -> list[str]:
        """The scale-to-zero series in the text exposition format."""
        out: list[str] = []
        for name, counts, help_text in (
            ("wakes", self.wakes, "Wakes this router started (scale-ups from zero), by backend."),
            ("sleeps", self.sleeps, "Times this router put a backend to sleep (scaled it to zero)."),
        ):
            out += [f"# HELP fleet_scale_{name}_total {help_text}", f"# TYPE fleet_scale_{name}_total counter"]
            out += [f'fleet_scale_{name}_total{{backend="{label(b)}"}} {n}' for b, n in sorted(counts.items())]
        out += [
            "# HELP fleet_scale_held_requests_total Requests held for a wake, by backend and outcome.",
            "# TYPE fleet_scale_held_requests_total counter",
        ]
        for (backend, outcome), count in sorted(self.held.items()):
            out.append(f'fleet_scale_held_requests_total{{backend="{label(backend)}",outcome="{outcome}"}} {count}')
        out += [
            "# HELP fleet_scale_wake_seconds Time from starting a wake to the backend answering.",
            "# TYPE fleet_scale_wake_seconds histogram",
        ]
        for backend, histogram in sorted(self.wake_seconds.items()):
            out.extend(histogram.render("fleet_scale_wake_seconds", f'backend="{label(backend)}"'))
        return out
