"""Rules about the cluster itself, checked with the rest of the stack by :func:`config.rules.check_stack`."""

from __future__ import annotations

from collections.abc import Iterator

from config.errors import Problem
from config.router_placement import TooManyTermsError, exclusion_terms
from config.stack import GkeClusterSpec, StackConfig

MIN_WINDOW_HOURS = 4
MIN_HOURS_PER_32_DAYS = 48
"""GKE refuses a maintenance window that allows fewer than 48 hours in any 32 days, counting only stretches of at
least 4 hours (https://cloud.google.com/kubernetes-engine/docs/concepts/maintenance-windows-and-exclusions)."""


def maintenance_problems(stack: StackConfig) -> Iterator[Problem]:
    """The weekly window must be one GKE accepts, or the cluster is refused at ``pulumi up``."""
    cluster = stack.cluster
    if not isinstance(cluster, GkeClusterSpec):
        return
    window = cluster.maintenance_window
    if window.hours < MIN_WINDOW_HOURS:
        yield Problem(
            "cluster.maintenanceWindow.hours",
            f"{window.hours} is shorter than the {MIN_WINDOW_HOURS} hours GKE counts as a maintenance window",
            f"set hours: {MIN_WINDOW_HOURS} or more",
        )
        return
    days = len(set(window.days))
    weekly = days * window.hours
    if weekly * 4 < MIN_HOURS_PER_32_DAYS:  # any 32 days hold each weekday at least 4 times
        yield Problem(
            "cluster.maintenanceWindow",
            f"{days} day(s) × {window.hours} h allows {weekly * 4} h in some 32 days; GKE needs "
            f"{MIN_HOURS_PER_32_DAYS} h",
            "add days or hours so that days × hours is at least 12 (e.g. days: [SA, SU], hours: 6)",
        )


def router_placement_problems(stack: StackConfig) -> Iterator[Problem]:
    """On an existing cluster the router must be kept off every pool's nodes by negating their selectors."""
    if stack.is_gke:
        return
    try:
        exclusion_terms(pool.node_selector for pool in stack.pools)
    except TooManyTermsError as error:
        yield Problem(
            "pools",
            f"the pools' nodeSelectors need {error} to keep the router off their nodes",
            "select each pool's nodes by fewer labels: one label per pool, e.g. nodeSelector: {fleet/gpu: k80}",
        )
