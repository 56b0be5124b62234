"""What the router learns from the Kubernetes API, in terms free of any client library.

Scaling logic depends on these and not on :mod:`router.balancing.kube_api`, so a router whose model map has
no pool that scales to zero never loads the Kubernetes client (lightkube and its HTTP stack).
"""

from __future__ import annotations

from dataclasses import dataclass


class KubeApiError(Exception):
    """A call to the Kubernetes API failed (unreachable, refused, or not configured)."""


@dataclass(frozen=True, slots=True)
class Observation:
    """A StatefulSet as last read: replicas wanted, pods created, pods ready."""

    wanted: int
    created: int
    ready: int


@dataclass(frozen=True, slots=True)
class Activity:
    """A pool's activity Lease: when some router last renewed it (epoch seconds), and which one."""

    renewed_at: float | None
    holder: str | None
