"""Where a pool's pods run: the node selector and tolerations that pin them to that pool's nodes only.

On GKE a pool is a node pool the stack creates, labelled and tainted ``ollama-fleet/pool=<name>``, and
named after its boot identity (:mod:`config.node_generation`): pods select that generation's node pool,
so a driver change moves them to the new nodes. On an existing cluster it is whatever nodes the user's
``nodeSelector`` finds (plus their optional taint). Both become one :class:`PoolPlacement`, so the driver
DaemonSet and the Ollama workload can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_kubernetes as k8s

from config.amd_data import amd_info
from config.k8s_names import POOL_LABEL
from config.node_generation import GENERATION_LABEL, gke_node_pool_name, node_generation
from config.stack import PoolSpec
from infra.k8s.helpers import gpu_toleration, toleration

GKE_NODEPOOL_LABEL = "cloud.google.com/gke-nodepool"
GKE_DRIVER_LABEL = "cloud.google.com/gke-gpu-driver-version"
"""Set on nodes whose driver GKE manages; our installer stays away from those."""


@dataclass(frozen=True, slots=True)
class PoolTaint:
    """A taint as Kubernetes spells it (``NoSchedule``), whoever put it on the nodes."""

    key: str
    value: str
    effect: str


@dataclass(frozen=True, slots=True)
class PoolPlacement:
    """How one pool's nodes are found and which taint keeps everything else off them."""

    pool: str
    gpu: bool
    node_selector: dict[str, str]
    taint: PoolTaint | None
    gke_node_pool: str | None

    def tolerations(self) -> list[k8s.core.v1.TolerationArgs]:
        """The pool's own taint, and GKE's GPU taint for GPU pools (pods that request no GPU need it too)."""
        found = [toleration(self.taint.key, self.taint.value, self.taint.effect)] if self.taint else []
        return found + ([gpu_toleration()] if self.gpu else [])


def gke_node_labels(pool: PoolSpec) -> dict[str, str]:
    """The labels the stack puts on a GKE pool's nodes: the pool, and the generation of what they boot with."""
    return {POOL_LABEL: pool.name, GENERATION_LABEL: node_generation(pool)}


def gke_placement(pool: PoolSpec) -> PoolPlacement:
    """The pool's current node pool generation, labelled and tainted with the pool label."""
    node_pool = gke_node_pool_name(pool)
    return PoolPlacement(
        pool=pool.name,
        gpu=pool.gpu is not None,
        node_selector={**gke_node_labels(pool), GKE_NODEPOOL_LABEL: node_pool},
        taint=PoolTaint(POOL_LABEL, pool.name, "NoSchedule"),
        gke_node_pool=node_pool,
    )


def existing_placement(pool: PoolSpec) -> PoolPlacement:
    """The user's nodes: their selector finds them, their taint (if any) is tolerated.

    Only NVIDIA pools tolerate ``nvidia.com/gpu``: an AMD pool has no business on NVIDIA nodes.
    """
    taint = PoolTaint(pool.taint.key, pool.taint.value, pool.taint.effect) if pool.taint else None
    return PoolPlacement(
        pool=pool.name,
        gpu=pool.gpu is not None and amd_info(pool.gpu) is None,
        node_selector=dict(pool.node_selector),
        taint=taint,
        gke_node_pool=None,
    )
