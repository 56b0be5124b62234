"""AmdDevicePlugin: AMD's device plugin on an existing cluster's AMD pool nodes, so pods can request ``amd.com/gpu``.

Written from ROCm/k8s-device-plugin's Helm chart (``helm/amd-gpu``): the plugin reads the GPUs from
``/sys`` and registers with the kubelet through its device-plugins directory. Without the optional health
check it needs no privilege (the chart's default: no privilege escalation, every capability dropped);
``/sys`` is mounted read-only. A pod that requests ``amd.com/gpu`` is handed ``/dev/kfd`` and its
``/dev/dri`` render node by the plugin. It talks to nothing over the network, so a NetworkPolicy
isolates its pods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.k8s import network_policy
from infra.k8s.helpers import (
    app_labels,
    checkov_skips,
    image_skips,
    meta,
    mount,
    pod_security,
    required_affinity,
    resources,
    restricted_security,
    selector_labels,
    toleration,
)
from infra.k8s.placement import PoolPlacement

IMAGE = "docker.io/rocm/k8s-device-plugin:1.31.0.9"
"""The tag ROCm/k8s-device-plugin's Helm chart (helm/amd-gpu/values.yaml) deploys."""
NAMESPACE = "kube-system"
PLUGIN_DIR = "/var/lib/kubelet/device-plugins"
SYS_DIR = "/sys"
ROOT_NEEDED = "the plugin creates its socket in the root-owned kubelet device-plugins directory"
SKIPS = {
    "CKV_K8S_8": "the plugin has no health endpoint and kubelet notices when its socket goes away",
    "CKV_K8S_9": "the plugin has no health endpoint and kubelet notices when its socket goes away",
    "CKV_K8S_23": ROOT_NEEDED,
    "CKV_K8S_40": ROOT_NEEDED,
}


@dataclass(frozen=True, slots=True)
class AmdDevicePluginArgs:
    """The AMD pools whose nodes need the plugin."""

    placements: Sequence[PoolPlacement]


class AmdDevicePlugin(pulumi.ComponentResource):
    """One DaemonSet in ``kube-system``, limited to the AMD pools' nodes."""

    daemon_set: k8s.apps.v1.DaemonSet

    def __init__(self, name: str, args: AmdDevicePluginArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ollama-fleet:infra:AmdDevicePlugin", name, None, opts)
        labels = app_labels("amdgpu-device-plugin", "device-plugin")
        terms = [[(key, "In", [value]) for key, value in sorted(p.node_selector.items())] for p in args.placements]
        taints = sorted({p.taint for p in args.placements if p.taint}, key=lambda t: (t.key, t.value, t.effect))
        tolerations = [k8s.core.v1.TolerationArgs(key="CriticalAddonsOnly", operator="Exists")]
        tolerations += [toleration(t.key, t.value, t.effect) for t in taints]
        annotations = checkov_skips({**SKIPS, **image_skips([IMAGE])})
        network_policy.isolate_policy(f"{name}-isolated", NAMESPACE, labels, pulumi.ResourceOptions(parent=self))
        self.daemon_set = k8s.apps.v1.DaemonSet(
            f"{name}-ds",
            metadata=meta("amdgpu-device-plugin", NAMESPACE, labels, annotations),
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
                        tolerations=tolerations,
                        containers=[self._container()],
                        volumes=[
                            k8s.core.v1.VolumeArgs(
                                name="device-plugins",
                                host_path=k8s.core.v1.HostPathVolumeSourceArgs(path=PLUGIN_DIR, type="Directory"),
                            ),
                            k8s.core.v1.VolumeArgs(
                                name="sys",
                                host_path=k8s.core.v1.HostPathVolumeSourceArgs(path=SYS_DIR, type="Directory"),
                            ),
                        ],
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"daemonSet": self.daemon_set.metadata.apply(lambda m: m.name)})

    @staticmethod
    def _container() -> k8s.core.v1.ContainerArgs:
        return k8s.core.v1.ContainerArgs(
            name="amdgpu-device-plugin",
            image=IMAGE,
            image_pull_policy="Always",
            security_context=restricted_security(read_only_root=True),
            resources=resources("10m", "32Mi", cpu_limit="100m", memory_limit="128Mi"),
            volume_mounts=[mount("device-plugins", PLUGIN_DIR), mount("sys", SYS_DIR, read_only=True)],
        )
