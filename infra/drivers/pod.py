"""The pod of a driver DaemonSet: install (GKE) or verify (existing cluster) the pool's pinned driver.

Install: a precheck refuses a node already running a different driver, the preloaded installer puts the
pin on the node (the only privileged container of the stack), and a verify step proves the loaded module
is the pin. Verify: the same check against the host's own driver. The main container is a pause: the
DaemonSet exists for its init containers, whose failure Kubernetes reports on the pod.
"""

from __future__ import annotations

import pulumi_kubernetes as k8s

from config.stack import PoolSpec
from infra.drivers import check
from infra.k8s.helpers import (
    env_list,
    host_path_volume,
    mount,
    pod_security,
    required_affinity,
    resources,
    restricted_security,
)
from infra.k8s.images import pull_policy
from infra.k8s.placement import GKE_DRIVER_LABEL, PoolPlacement

INSTALL_DIR = "/home/kubernetes/bin/nvidia"
HOST_PATHS = {
    "COS_CONTAINERD": (
        ("dev", "/dev", "/dev"),
        ("nvidia-install-dir-host", INSTALL_DIR, "/usr/local/nvidia"),
        ("vulkan-icd-mount", f"{INSTALL_DIR}/vulkan/icd.d", "/etc/vulkan/icd.d"),
        ("root-mount", "/", "/root"),
        ("cos-tools", "/var/lib/cos-tools", "/build/cos-tools"),
    ),
    "UBUNTU_CONTAINERD": (("dev", "/dev", "/dev"), ("boot", "/boot", "/boot"), ("root-mount", "/", "/root")),
}
"""(volume, host path, container path) per node image, as in container-engine-accelerators' preloaded DaemonSets."""

KERNEL_MODULE = "the installer builds and loads the NVIDIA kernel module on the host"
COMMON_SKIPS = {
    "CKV_K8S_8": "the work runs in init containers and the main container is a pause",
    "CKV_K8S_9": "the work runs in init containers and the main container is a pause",
}
INSTALL_SKIPS = {
    **COMMON_SKIPS,
    "CKV_K8S_16": KERNEL_MODULE,
    "CKV_K8S_20": KERNEL_MODULE,
    "CKV_K8S_22": KERNEL_MODULE,
    "CKV_K8S_28": KERNEL_MODULE,
    "CKV_K8S_37": KERNEL_MODULE,
    "CKV_K8S_15": "the installer image is preloaded on GKE node images and is in no registry",
    "CKV_K8S_19": "the installer reaches what it downloads through the node's own network, as the node does",
}
COS_SKIPS = {"CKV_K8S_17": "the preloaded COS installer expects the host PID namespace, as upstream runs it"}
PRIORITY_CLASS = "system-node-critical"
"""As Google's installer DaemonSets: a node's driver outranks every workload that needs it."""


def skips(pool: PoolSpec, install: bool) -> dict[str, str]:
    """The checkov checks this pool's driver DaemonSet cannot pass, and why."""
    if not install:
        return dict(COMMON_SKIPS)
    return {**INSTALL_SKIPS, **(COS_SKIPS if pool.node_image == "COS_CONTAINERD" else {})}


def _pause() -> k8s.core.v1.ContainerArgs:
    return k8s.core.v1.ContainerArgs(
        name="pause",
        image=check.PAUSE_IMAGE,
        image_pull_policy=pull_policy(check.PAUSE_IMAGE),
        security_context=restricted_security(user=check.NOBODY),
        resources=resources("1m", "8Mi", cpu_limit="10m", memory_limit="16Mi"),
    )


def _installer_env(pool: PoolSpec) -> dict[str, str]:
    if pool.node_image != "COS_CONTAINERD":
        return {"NVIDIA_DRIVER_VERSION": pool.driver or ""}
    return {
        "NVIDIA_INSTALL_DIR_HOST": INSTALL_DIR,
        "NVIDIA_INSTALL_DIR_CONTAINER": "/usr/local/nvidia",
        "VULKAN_ICD_DIR_HOST": f"{INSTALL_DIR}/vulkan/icd.d",
        "VULKAN_ICD_DIR_CONTAINER": "/etc/vulkan/icd.d",
        "ROOT_MOUNT_DIR": "/root",
        "COS_TOOLS_DIR_HOST": "/var/lib/cos-tools",
        "COS_TOOLS_DIR_CONTAINER": "/build/cos-tools",
    }


def installer_image(pool: PoolSpec) -> str:
    """The installer preloaded on the pool's node image."""
    return check.COS_INSTALLER_IMAGE if pool.node_image == "COS_CONTAINERD" else check.UBUNTU_INSTALLER_IMAGE


def _installer(pool: PoolSpec) -> k8s.core.v1.ContainerArgs:
    """The only privileged container of the stack: it builds and loads a kernel module."""
    cos = pool.node_image == "COS_CONTAINERD"
    return k8s.core.v1.ContainerArgs(
        name="nvidia-driver-installer",
        image=installer_image(pool),
        image_pull_policy="Never",
        command=["bash", "-c", check.cos_install_script(pool.driver or "")] if cos else None,
        env=env_list(_installer_env(pool)),
        security_context=k8s.core.v1.SecurityContextArgs(privileged=True),
        resources=resources("150m", "256Mi", cpu_limit="2", memory_limit="2Gi"),
        volume_mounts=[mount(volume, path) for volume, _, path in HOST_PATHS[pool.node_image]],
    )


def install_spec(
    pool: PoolSpec, placement: PoolPlacement, check_image: str = check.CHECK_IMAGE
) -> k8s.core.v1.PodSpecArgs:
    """GKE: precheck, install the pin, verify; only on this pool's nodes and never on GKE-managed drivers.

    ``check_image`` runs the two checks: on GKE the shell image is pulled through the Docker Hub mirror.

    Both installers run in the node's network namespace. COS's expects it (Google's COS DaemonSet sets
    ``hostNetwork``). Ubuntu's installs the node's kernel headers with ``apt-get`` over plain HTTP
    from the node's mirrors, downloads the driver from NVIDIA over HTTPS
    (container-engine-accelerators ``nvidia-driver-installer/ubuntu/entrypoint.sh``), and newer builds
    read the metadata server, which a pod reaches by another path under GKE's metadata server; Google
    runs it in ``kube-system`` under no NetworkPolicy at all. The node's own network is the one place
    where all of that is known to work. A pod policy would not be a boundary anyway: the container is
    privileged and mounts the host's root.
    """
    pin = pool.driver or ""
    cos = pool.node_image == "COS_CONTAINERD"
    return k8s.core.v1.PodSpecArgs(
        node_selector=placement.node_selector,
        affinity=required_affinity([(GKE_DRIVER_LABEL, "DoesNotExist", [])]),
        tolerations=placement.tolerations(),
        priority_class_name=PRIORITY_CLASS,
        host_network=True,
        host_pid=cos or None,
        automount_service_account_token=False,
        security_context=pod_security(),
        init_containers=[
            check.driver_check_container("driver-precheck", pin, check_image, allow_missing=True),
            _installer(pool),
            check.driver_check_container("driver-verify", pin, check_image),
        ],
        containers=[_pause()],
        volumes=[host_path_volume(volume, host) for volume, host, _ in HOST_PATHS[pool.node_image]],
    )


def verify_spec(pool: PoolSpec, placement: PoolPlacement) -> k8s.core.v1.PodSpecArgs:
    """Existing cluster: the host owns its driver; prove it is the pin."""
    verify = check.driver_check_container("driver-verify", pool.driver or "", check.VERIFY_IMAGE, nvidia=True)
    return k8s.core.v1.PodSpecArgs(
        node_selector=placement.node_selector,
        tolerations=placement.tolerations(),
        priority_class_name=PRIORITY_CLASS,
        automount_service_account_token=False,
        security_context=pod_security(user=check.NOBODY),
        init_containers=[verify],
        containers=[_pause()],
    )


def images(pool: PoolSpec, install: bool, check_image: str = check.CHECK_IMAGE) -> list[str]:
    """Every image a pool's driver pod runs."""
    if install:
        return [check_image, installer_image(pool), check.PAUSE_IMAGE]
    return [check.VERIFY_IMAGE, check.PAUSE_IMAGE]
