"""DriverInstaller: one DaemonSet per GPU pool that puts the pool's pinned NVIDIA driver on its nodes.

Upstream's installer DaemonSets are cluster-wide and skip any node that already has a module loaded;
these are per pool (pool label and ``cloud.google.com/gke-nodepool``), install one exact version (COS:
``cos-gpu-installer install --version=<pin>``; Ubuntu: ``NVIDIA_DRIVER_VERSION=<pin>``) and fail loudly
when a node runs anything else. On an existing cluster the host owns its driver, so the same DaemonSet
only verifies it. They live in their own namespace because they need hostPath and privilege, which the
workload namespace does not allow; ``pulumi up`` does not wait for them (GPU nodes may not exist yet).

Least privilege per cluster kind: the namespace enforces Pod Security ``privileged`` only where an
installer runs (GKE); a verifier-only namespace (existing cluster) enforces ``restricted``. Network: the
namespace denies everything but DNS; an installer may reach the internet on 443, because the preloaded
installers download the driver (COS from Google's ``cos-tools`` bucket, Ubuntu the pinned ``.run``
release) — and nothing else: not the metadata server, not the cluster. The COS installer runs in the
node's network namespace (``hostNetwork``, as upstream runs it), where pod NetworkPolicies do not apply;
the Ubuntu installer and every verifier are held by them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from config.naming import POOL_LABEL, driver_namespace
from config.stack import PoolSpec
from infra import driver_pod, network_policy
from infra.k8s_helpers import (
    app_labels,
    checkov_skips,
    image_skips,
    meta,
    selector_labels,
    slow_workload_annotations,
)
from infra.placement import PoolPlacement


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
        self.daemon_sets = {
            entry.pool.name: self._daemon_set(name, entry, args.install) for entry in args.pools if entry.pool.driver
        }
        self.register_outputs(
            {"namespace": self.namespace, "daemonSets": {pool: ds.id for pool, ds in self.daemon_sets.items()}}
        )

    def _daemon_set(self, name: str, entry: DriverPool, install: bool) -> k8s.apps.v1.DaemonSet:
        pool, placement = entry.pool, entry.placement
        role = "driver-installer" if install else "driver-verifier"
        labels = app_labels(f"nvidia-driver-{pool.name}", role, **{POOL_LABEL: pool.name})
        spec = driver_pod.install_spec(pool, placement) if install else driver_pod.verify_spec(pool, placement)
        skips = {**driver_pod.skips(pool, install), **image_skips(driver_pod.images(pool, install))}
        annotations = {**slow_workload_annotations(), **checkov_skips(skips)}
        if install:
            network_policy.egress_policy(
                f"{name}-{pool.name}-egress",
                self.namespace,
                labels,
                ports=[network_policy.port(network_policy.HTTPS_PORT)],
                destinations=[network_policy.internet()],
                opts=pulumi.ResourceOptions(parent=self),
            )
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
