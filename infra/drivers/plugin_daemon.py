"""What every device plugin's DaemonSet shares: where it runs, how it is isolated, and what checkov is told.

A device plugin registers a node's GPUs with the kubelet through a socket in the root-owned
device-plugins directory. It must run on every node of the pools that use it (each pool's selector is one
affinity term, and it tolerates their taints), at node-critical priority so it is never the pod evicted
first, and it talks to nothing over the network, so a NetworkPolicy isolates its pods. The NVIDIA and AMD
plugins differ only in their container, extra host paths and extra tolerations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from infra.k8s import network_policy
from infra.k8s.helpers import (
    app_labels,
    checkov_skips,
    image_skips,
    meta,
    pod_security,
    required_affinity,
    selector_labels,
    toleration,
)
from infra.k8s.images import pull_skips
from infra.k8s.placement import PoolPlacement

NAMESPACE = "kube-system"
PLUGIN_DIR = "/var/lib/kubelet/device-plugins"
PLUGIN_VOLUME = "device-plugins"
_ROOT_NEEDED = "the plugin creates its socket in the root-owned kubelet device-plugins directory"
_NO_HEALTH = "the plugin has no health endpoint and kubelet notices when its socket goes away"
SKIPS = {"CKV_K8S_8": _NO_HEALTH, "CKV_K8S_9": _NO_HEALTH, "CKV_K8S_23": _ROOT_NEEDED, "CKV_K8S_40": _ROOT_NEEDED}


@dataclass(frozen=True, slots=True)
class PluginSpec:
    """One plugin: its name, its container, and what it needs beyond the device-plugins directory."""

    app: str
    image: str
    container: k8s.core.v1.ContainerArgs
    extra_volumes: Sequence[k8s.core.v1.VolumeArgs] = ()
    extra_tolerations: Sequence[k8s.core.v1.TolerationArgs] = field(default_factory=list)


def _tolerations(
    placements: Sequence[PoolPlacement], extra: Sequence[k8s.core.v1.TolerationArgs]
) -> list[k8s.core.v1.TolerationArgs]:
    taints = sorted({p.taint for p in placements if p.taint}, key=lambda t: (t.key, t.value, t.effect))
    critical = k8s.core.v1.TolerationArgs(key="CriticalAddonsOnly", operator="Exists")
    return [*extra, critical, *(toleration(t.key, t.value, t.effect) for t in taints)]


def plugin_daemon_set(
    name: str, spec: PluginSpec, placements: Sequence[PoolPlacement], parent: pulumi.Resource
) -> k8s.apps.v1.DaemonSet:
    """The plugin's DaemonSet in ``kube-system`` on exactly the given pools' nodes, and its isolation policy."""
    labels = app_labels(spec.app, "device-plugin")
    terms = [[(key, "In", [value]) for key, value in sorted(p.node_selector.items())] for p in placements]
    annotations = checkov_skips({**SKIPS, **image_skips([spec.image]), **pull_skips([spec.image])})
    opts = pulumi.ResourceOptions(parent=parent)
    network_policy.isolate_policy(f"{name}-isolated", NAMESPACE, labels, opts)
    plugin_dir = k8s.core.v1.HostPathVolumeSourceArgs(path=PLUGIN_DIR, type="Directory")
    return k8s.apps.v1.DaemonSet(
        f"{name}-ds",
        metadata=meta(spec.app, NAMESPACE, labels, annotations),
        spec=k8s.apps.v1.DaemonSetSpecArgs(
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector_labels(labels)),
            update_strategy=k8s.apps.v1.DaemonSetUpdateStrategyArgs(type="RollingUpdate"),
            template=k8s.core.v1.PodTemplateSpecArgs(
                metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                spec=k8s.core.v1.PodSpecArgs(
                    priority_class_name="system-node-critical",
                    automount_service_account_token=False,
                    security_context=pod_security(),
                    affinity=required_affinity(*terms),
                    tolerations=_tolerations(placements, spec.extra_tolerations),
                    containers=[spec.container],
                    volumes=[k8s.core.v1.VolumeArgs(name=PLUGIN_VOLUME, host_path=plugin_dir), *spec.extra_volumes],
                ),
            ),
        ),
        opts=opts,
    )
