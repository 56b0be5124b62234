"""DriverInstaller: one DaemonSet per GPU pool that puts the pool's pinned NVIDIA driver on its nodes.

Upstream's installer DaemonSets are cluster-wide and skip any node that already has a module loaded;
these are per pool (the pool's node selector), install what the pool pins (COS: the newest published
build of the pinned branch; Ubuntu: ``NVIDIA_DRIVER_VERSION=<build>``) and fail loudly when a node runs
anything else. On an existing cluster the host owns its driver, so the same DaemonSet only verifies it.
They live in their own namespace because they need hostPath and privilege, which the workload namespace
does not allow; ``pulumi up`` does not wait for them (GPU nodes may not exist yet).

Least privilege per cluster kind: the namespace enforces Pod Security ``privileged`` only where an
installer runs (GKE); a verifier-only namespace (existing cluster) enforces ``restricted``. Network: the
namespace denies everything but DNS. Installers run in the node's network namespace, as upstream runs
the COS one, because the Ubuntu installer needs plain-HTTP apt mirrors and the metadata server besides
NVIDIA's downloads (see :func:`infra.drivers.pod.install_spec`); pod NetworkPolicies do not apply there.
Verifiers are held by them and reach nothing.

Priority: every driver pod runs as ``system-node-critical``, as Google's installer DaemonSets do. GKE
admits that class outside ``kube-system`` only within a ResourceQuota scoped to it
(https://kubernetes.io/docs/concepts/policy/resource-quotas/#limit-priority-class-consumption-by-default;
GKE ships such a limit, quota ``gcp-critical-pods`` in ``kube-system``), so the namespace gets one sized
for every GPU node the pools may run, twice over for a node pool replaced beside its successor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from config.k8s_names import POOL_LABEL, driver_namespace
from config.stack import PoolSpec
from infra.drivers import check as driver_check
from infra.drivers import pod as driver_pod
from infra.drivers.pod import PRIORITY_CLASS
from infra.k8s import network_policy
from infra.k8s.helpers import (
    app_labels,
    checkov_skips,
    image_skips,
    meta,
    selector_labels,
    slow_workload_annotations,
)
from infra.k8s.images import pull_skips
from infra.k8s.placement import PoolPlacement


@dataclass(frozen=True, slots=True)
class DriverPool:
    """A GPU pool and where its nodes are."""

    pool: PoolSpec
    placement: PoolPlacement


@dataclass(frozen=True, slots=True)
class DriverInstallerArgs:
    """The fleet's namespace (the drivers get ``<namespace>-drivers``) and its GPU pools."""

    namespace: str
    pools: Sequence[DriverPool]
    install: bool
    """True on GKE (install the pin); False on an existing cluster (verify the host's driver)."""
    check_image: str = driver_check.CHECK_IMAGE
    """The shell image of the driver checks; on GKE, pulled through the Docker Hub mirror."""


class DriverInstaller(pulumi.ComponentResource):
    """The privileged driver namespace and one installer (or verifier) DaemonSet per GPU pool.

    Attributes:
        namespace: the drivers' namespace (Pod Security ``privileged`` on GKE, ``restricted`` when it only verifies).
        daemon_sets: the DaemonSet of each pool, by pool name.
    """

    namespace: pulumi.Output[str]
    daemon_sets: dict[str, k8s.apps.v1.DaemonSet]

    def __init__(self, name: str, args: DriverInstallerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ollama-fleet:infra:DriverInstaller", name, None, opts)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=driver_namespace(args.namespace),
                labels={
                    **app_labels("ollama-fleet", "drivers"),
                    "pod-security.kubernetes.io/enforce": "privileged" if args.install else "restricted",
                },
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.namespace = namespace.metadata.apply(lambda m: str(m.name))
        network_policy.namespace_baseline(f"{name}-namespace", self.namespace, pulumi.ResourceOptions(parent=self))
        if args.install:
            self._critical_quota(name, args.pools)
        self.daemon_sets = {
            entry.pool.name: self._daemon_set(name, entry, args) for entry in args.pools if entry.pool.driver
        }
        self.register_outputs(
            {"namespace": self.namespace, "daemonSets": {pool: ds.id for pool, ds in self.daemon_sets.items()}}
        )

    def _critical_quota(self, name: str, pools: Sequence[DriverPool]) -> k8s.core.v1.ResourceQuota:
        """Lets GKE admit ``system-node-critical`` driver pods here: one per node, old and new node pool alike."""
        nodes = sum(entry.pool.nodes.max for entry in pools)
        return k8s.core.v1.ResourceQuota(
            f"{name}-critical-pods",
            metadata=meta("critical-pods", self.namespace, app_labels("ollama-fleet", "drivers")),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(
                hard={"pods": str(max(2 * nodes, 1))},
                scope_selector=k8s.core.v1.ScopeSelectorArgs(
                    match_expressions=[
                        k8s.core.v1.ScopedResourceSelectorRequirementArgs(
                            scope_name="PriorityClass", operator="In", values=[PRIORITY_CLASS]
                        )
                    ]
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _daemon_set(self, name: str, entry: DriverPool, args: DriverInstallerArgs) -> k8s.apps.v1.DaemonSet:
        pool, placement, install = entry.pool, entry.placement, args.install
        role = "driver-installer" if install else "driver-verifier"
        labels = app_labels(f"nvidia-driver-{pool.name}", role, **{POOL_LABEL: pool.name})
        if install:
            spec = driver_pod.install_spec(pool, placement, args.check_image)
        else:
            spec = driver_pod.verify_spec(pool, placement)
        pod_images = driver_pod.images(pool, install, args.check_image)
        skips = {**driver_pod.skips(pool, install), **image_skips(pod_images), **pull_skips(pod_images)}
        annotations = {**slow_workload_annotations(), **checkov_skips(skips)}
        return k8s.apps.v1.DaemonSet(
            f"{name}-{pool.name}",
            metadata=meta(f"nvidia-driver-{pool.name}", self.namespace, labels, annotations),
            spec=k8s.apps.v1.DaemonSetSpecArgs(
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector_labels(labels)),
                update_strategy=k8s.apps.v1.DaemonSetUpdateStrategyArgs(type="RollingUpdate"),
                template=k8s.core.v1.PodTemplateSpecArgs(metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels), spec=spec),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
