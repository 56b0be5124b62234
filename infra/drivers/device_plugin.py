"""DevicePlugin: NVIDIA's device plugin on an existing cluster's GPU nodes, so pods can request ``nvidia.com/gpu``.

GKE runs its own device plugin; a home cluster usually does not. The plugin runs on every node of every
GPU pool (each pool's selector is one affinity term) and tolerates the pools' taints. It assumes the
NVIDIA container runtime is the nodes' default runtime, as NVIDIA's static manifest does. It talks to the
kubelet over a socket on the host only, so a NetworkPolicy isolates its pods from all traffic.
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
    gpu_toleration,
    image_skips,
    meta,
    pod_security,
    required_affinity,
    resources,
    restricted_security,
    selector_labels,
    toleration,
)
from infra.k8s.placement import PoolPlacement

IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.4"
"""The last v0.17 release (NVIDIA/k8s-device-plugin CHANGELOG): it ignores NVML memory errors on old GPUs."""
NAMESPACE = "kube-system"
PLUGIN_DIR = "/var/lib/kubelet/device-plugins"
ROOT_NEEDED = "the plugin creates its socket in the root-owned kubelet device-plugins directory"
SKIPS = {
    "CKV_K8S_8": "the plugin has no health endpoint and kubelet notices when its socket goes away",
    "CKV_K8S_9": "the plugin has no health endpoint and kubelet notices when its socket goes away",
    "CKV_K8S_23": ROOT_NEEDED,
    "CKV_K8S_40": ROOT_NEEDED,
}


@dataclass(frozen=True, slots=True)
class DevicePluginArgs:
    """The GPU pools whose nodes need the plugin."""

    placements: Sequence[PoolPlacement]


class DevicePlugin(pulumi.ComponentResource):
    """One DaemonSet in ``kube-system``, limited to the GPU pools' nodes."""

    daemon_set: k8s.apps.v1.DaemonSet

    def __init__(self, name: str, args: DevicePluginArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ollama-fleet:infra:DevicePlugin", name, None, opts)
        labels = app_labels("nvidia-device-plugin", "device-plugin")
        terms = [[(key, "In", [value]) for key, value in sorted(p.node_selector.items())] for p in args.placements]
        taints = sorted({p.taint for p in args.placements if p.taint}, key=lambda t: (t.key, t.value, t.effect))
        tolerations = [gpu_toleration(), k8s.core.v1.TolerationArgs(key="CriticalAddonsOnly", operator="Exists")]
        tolerations += [toleration(t.key, t.value, t.effect) for t in taints]
        annotations = checkov_skips({**SKIPS, **image_skips([IMAGE])})
        network_policy.isolate_policy(f"{name}-isolated", NAMESPACE, labels, pulumi.ResourceOptions(parent=self))
        self.daemon_set = k8s.apps.v1.DaemonSet(
            f"{name}-ds",
            metadata=meta("nvidia-device-plugin", NAMESPACE, labels, annotations),
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
                            )
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
            name="nvidia-device-plugin",
            image=IMAGE,
            image_pull_policy="Always",
            env=[k8s.core.v1.EnvVarArgs(name="FAIL_ON_INIT_ERROR", value="false")],
            security_context=restricted_security(read_only_root=True),
            resources=resources("10m", "32Mi", cpu_limit="100m", memory_limit="128Mi"),
            volume_mounts=[k8s.core.v1.VolumeMountArgs(name="device-plugins", mount_path=PLUGIN_DIR)],
        )
