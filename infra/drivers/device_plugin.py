"""DevicePlugin: NVIDIA's device plugin on an existing cluster's GPU nodes, so pods can request ``nvidia.com/gpu``.

GKE runs its own device plugin; a home cluster usually does not. The plugin runs on every node of every
NVIDIA pool (:mod:`infra.drivers.plugin_daemon`). It assumes the NVIDIA container runtime is the nodes'
default runtime, as NVIDIA's static manifest does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from infra.drivers.plugin_daemon import PLUGIN_DIR, PLUGIN_VOLUME, PluginSpec, plugin_daemon_set
from infra.k8s.helpers import gpu_toleration, mount, resources, restricted_security
from infra.k8s.images import pull_policy
from infra.k8s.placement import PoolPlacement

IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.4"
"""The last v0.17 release (NVIDIA/k8s-device-plugin CHANGELOG): it ignores NVML memory errors on old GPUs."""


@dataclass(frozen=True, slots=True)
class DevicePluginArgs:
    """The GPU pools whose nodes need the plugin."""

    placements: Sequence[PoolPlacement]


class DevicePlugin(pulumi.ComponentResource):
    """One DaemonSet in ``kube-system``, limited to the GPU pools' nodes."""

    daemon_set: k8s.apps.v1.DaemonSet

    def __init__(self, name: str, args: DevicePluginArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ollama-fleet:infra:DevicePlugin", name, None, opts)
        container = k8s.core.v1.ContainerArgs(
            name="nvidia-device-plugin",
            image=IMAGE,
            image_pull_policy=pull_policy(IMAGE),
            env=[k8s.core.v1.EnvVarArgs(name="FAIL_ON_INIT_ERROR", value="false")],
            security_context=restricted_security(read_only_root=True),
            resources=resources("10m", "32Mi", cpu_limit="100m", memory_limit="128Mi"),
            volume_mounts=[mount(PLUGIN_VOLUME, PLUGIN_DIR)],
        )
        spec = PluginSpec("nvidia-device-plugin", IMAGE, container, extra_tolerations=[gpu_toleration()])
        self.daemon_set = plugin_daemon_set(name, spec, args.placements, self)
        self.register_outputs({"daemonSet": self.daemon_set.metadata.apply(lambda m: m.name)})
