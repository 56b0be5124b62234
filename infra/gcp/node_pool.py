"""FleetNodePool: the nodes of one pool (GPU or CPU), and the placement that keeps that pool's pods on them.

On GKE it is one node pool per GPU type (or a plain CPU pool), labelled and tainted
``ollama-fleet/pool=<name>:NO_SCHEDULE`` so nothing else lands there. Its name carries the generation of
what its nodes boot with (:mod:`config.node_generation`): a new driver pin, node image, machine type or
accelerator renames it, and Pulumi replaces it create-before-delete, so the new nodes exist before the
workloads move to them and the old pool goes last (see ``docs/upgrades.md``). Its accelerator is declared with
``gpu_driver_version = INSTALLATION_DISABLED``: since GKE 1.30.1-gke.1156000 leaving it unset installs
GKE's default driver, and this stack's :class:`~infra.drivers.installer.DriverInstaller` must be the only
thing that puts a driver on these nodes. On an existing cluster the pool creates nothing: it is the
user's node selector (and optional taint).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from config.k8s_names import POOL_LABEL
from config.stack import PoolSpec
from infra.gcp import gke
from infra.k8s.placement import PoolPlacement, existing_placement, gke_node_labels, gke_placement

DRIVER_INSTALLATION_DISABLED = "INSTALLATION_DISABLED"


@dataclass(frozen=True, slots=True)
class FleetNodePoolArgs:
    """One pool, and the GKE cluster it joins (None on an existing cluster)."""

    pool: PoolSpec
    gke: gke.GkeBase | None


class FleetNodePool(pulumi.ComponentResource):
    """A pool's nodes.

    Attributes:
        placement: node selector and taint of the pool, shared by its driver DaemonSet and Ollama.
        node_pool: the GKE node pool (None on an existing cluster).
        node_pool_name: the GKE node pool's name, or None.
    """

    placement: PoolPlacement
    node_pool: gcp.container.NodePool | None
    node_pool_name: pulumi.Output[str] | None

    def __init__(self, name: str, args: FleetNodePoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # The type token predates the rename and stays: it is part of every child's URN, and a new one would
        # make Pulumi replace the node pools of every deployed stack.
        super().__init__("ollama-fleet:infra:GpuNodePool", name, None, opts)
        pool = args.pool
        self.node_pool = None
        self.node_pool_name = None
        if args.gke is None:
            self.placement = existing_placement(pool)
        else:
            self.placement = gke_placement(pool)
            self.node_pool = self._node_pool(name, pool, self.placement, args.gke)
            self.node_pool_name = self.node_pool.name
        self.register_outputs({"nodePool": self.node_pool_name, "nodeSelector": self.placement.node_selector})

    def _node_pool(
        self, name: str, pool: PoolSpec, placement: PoolPlacement, base: gke.GkeBase
    ) -> gcp.container.NodePool:
        machine = pool.effective_machine_type
        assert machine is not None, "config.rules refuses a GKE pool without a machine type"
        return gcp.container.NodePool(
            f"{name}-nodes",
            name=placement.gke_node_pool,
            cluster=base.cluster.name,
            location=base.location,
            node_locations=list(pool.zones),
            initial_node_count=math.ceil(pool.nodes.min / max(1, len(pool.zones))),
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                total_min_node_count=pool.nodes.min,
                total_max_node_count=pool.nodes.max,
                location_policy="ANY" if pool.spot else "BALANCED",
            ),
            management=gke.management(),
            upgrade_settings=gcp.container.NodePoolUpgradeSettingsArgs(max_surge=1, max_unavailable=0),
            # Deleting a node pool (the old generation, after a driver or image change) drains its nodes
            # without PodDisruptionBudgets unless asked to honour them
            # (https://cloud.google.com/sdk/gcloud/reference/container/node-pools/delete); honoured, Ollama's
            # budget lets one replica go at a time, so the others keep serving while it moves.
            node_drain_configs=[gcp.container.NodePoolNodeDrainConfigArgs(respect_pdb_during_node_pool_deletion=True)],
            node_config=gke.node_config(
                machine_type=machine,
                image_type=pool.node_image,
                disk_size_gb=pool.disk_size_gb,
                account_email=base.node_account_email,
                labels=gke_node_labels(pool),
                taints=[
                    gcp.container.NodePoolNodeConfigTaintArgs(key=POOL_LABEL, value=pool.name, effect="NO_SCHEDULE")
                ],
                accelerators=self._accelerators(pool),
                spot=pool.spot,
            ),
            # A new generation is a new name: create it beside the old pool, delete the old one last.
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(base.node_roles), delete_before_replace=False),
        )

    @staticmethod
    def _accelerators(pool: PoolSpec) -> list[gcp.container.NodePoolNodeConfigGuestAcceleratorArgs] | None:
        if pool.gpu is None:
            return None
        return [
            gcp.container.NodePoolNodeConfigGuestAcceleratorArgs(
                type=pool.gpu,
                count=pool.gpus_per_node,
                gpu_driver_installation_config=gcp.container.NodePoolNodeConfigGuestAcceleratorGpuDriverInstallationConfigArgs(
                    gpu_driver_version=DRIVER_INSTALLATION_DISABLED
                ),
            )
        ]
