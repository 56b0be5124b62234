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

from infra.drivers.plugin_daemon import PLUGIN_DIR, PLUGIN_VOLUME, PluginSpec, plugin_daemon_set
from infra.k8s.helpers import mount, resources, restricted_security
from infra.k8s.images import pull_policy
from infra.k8s.placement import PoolPlacement

IMAGE = "docker.io/rocm/k8s-device-plugin:1.31.0.9"
"""The tag ROCm/k8s-device-plugin's Helm chart (helm/amd-gpu/values.yaml) deploys."""
SYS_DIR = "/sys"


@dataclass(frozen=True, slots=True)
class AmdDevicePluginArgs:
    """The AMD pools whose nodes need the plugin."""

    placements: Sequence[PoolPlacement]


class AmdDevicePlugin(pulumi.ComponentResource):
    """One DaemonSet in ``kube-system``, limited to the AMD pools' nodes."""

    daemon_set: k8s.apps.v1.DaemonSet

    def __init__(self, name: str, args: AmdDevicePluginArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ollama-fleet:infra:AmdDevicePlugin", name, None, opts)
        container = k8s.core.v1.ContainerArgs(
            name="amdgpu-device-plugin",
            image=IMAGE,
            image_pull_policy=pull_policy(IMAGE),
            security_context=restricted_security(read_only_root=True),
            resources=resources("10m", "32Mi", cpu_limit="100m", memory_limit="128Mi"),
            volume_mounts=[mount(PLUGIN_VOLUME, PLUGIN_DIR), mount("sys", SYS_DIR, read_only=True)],
        )
        sys_dir = k8s.core.v1.VolumeArgs(
            name="sys", host_path=k8s.core.v1.HostPathVolumeSourceArgs(path=SYS_DIR, type="Directory")
        )
        spec = PluginSpec("amdgpu-device-plugin", IMAGE, container, extra_volumes=[sys_dir])
        self.daemon_set = plugin_daemon_set(name, spec, args.placements, self)
        self.register_outputs({"daemonSet": self.daemon_set.metadata.apply(lambda m: m.name)})
