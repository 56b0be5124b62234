"""Which nodes a pool's pods may run on: the generation of the GKE node pool, named after what its nodes boot with.

A GKE node pool is named ``<pool>-<generation>``, the generation being a short hash of everything a
node boots with that the workloads depend on: node image, driver pin, machine type, accelerator and
GPU count. Change any of them and the node pool gets a new name, so Pulumi replaces it, creating
the new pool before deleting the old one; the driver DaemonSet and the Ollama pods select the new name,
so a pod's driver gate is never pinned to a driver its nodes were not built for. Anything else about a
pool (autoscaling bounds, zones, disk size, models) changes the node pool in place or not at all.
"""

from __future__ import annotations

import hashlib

from config.stack import PoolSpec

GENERATION_LABEL = "ollama-fleet/node-generation"
"""Node label carrying the generation, so nodes, DaemonSet and pods show which boot identity they belong to."""
GENERATION_LENGTH = 6


def boot_identity(pool: PoolSpec) -> tuple[str, ...]:
    """What a node of this pool boots with, in the order it is hashed."""
    return (
        pool.node_image,
        pool.driver or "no-driver",
        pool.effective_machine_type or "no-machine-type",
        pool.gpu or "no-gpu",
        str(pool.gpus_per_node if pool.gpu else 0),
    )


def node_generation(pool: PoolSpec) -> str:
    """A short, stable hash of :func:`boot_identity`: same inputs, same generation, on every run."""
    digest = hashlib.sha256("\n".join(boot_identity(pool)).encode()).hexdigest()
    return digest[:GENERATION_LENGTH]


def gke_node_pool_name(pool: PoolSpec) -> str:
    """``<pool>-<generation>``: at most 37 characters, within GKE's 40 for a node pool name."""
    return f"{pool.name}-{node_generation(pool)}"
