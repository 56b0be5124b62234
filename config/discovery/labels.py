"""The node labels and capacities that say which accelerator a node carries, as each tool documents them.

- NVIDIA GPU Feature Discovery (GFD), https://github.com/NVIDIA/k8s-device-plugin/blob/main/docs/gpu-feature-discovery/README.md
  ("Generated Labels"): ``nvidia.com/gpu.product`` (e.g. ``Tesla-T4``), ``nvidia.com/gpu.count``,
  ``nvidia.com/gpu.memory`` (MiB), ``nvidia.com/cuda.driver-version.{full,major,minor,revision}`` and the
  deprecated ``nvidia.com/cuda.driver.{major,minor,rev}`` that older releases set.
- Node Feature Discovery (NFD), https://kubernetes-sigs.github.io/node-feature-discovery/stable/usage/features.html#pci
  and ``sources.pci.deviceLabelFields`` in its worker configuration reference: ``feature.node.kubernetes.io/
  pci-<fields>.present=true``, the fields joined by ``_`` in the order class, vendor, device (default:
  class and vendor, e.g. ``pci-0302_10de.present``; vendor only gives ``pci-10de.present``).
- AMD's node labeller, https://github.com/ROCm/k8s-device-plugin/blob/master/cmd/k8s-node-labeller/README.md
  (and ``main.go``): ``amd.com/gpu.family``, ``amd.com/gpu.device-id``, ``amd.com/gpu.product-name``
  (spaces as ``_``), ``amd.com/gpu.vram`` (``16G``), ``amd.com/gpu.driver-version``; with several kinds of
  card on one node it writes ``amd.com/gpu.device-id.<id>=<count>`` instead. AMD's device plugin
  advertises the ``amd.com/gpu`` resource.
- GKE, https://cloud.google.com/kubernetes-engine/docs/how-to/gpus: ``cloud.google.com/gke-accelerator``
  holds the accelerator type (``nvidia-l4``); NVIDIA's device plugin advertises ``nvidia.com/gpu``.
"""

from __future__ import annotations

import re

NVIDIA_RESOURCE = "nvidia.com/gpu"
AMD_RESOURCE = "amd.com/gpu"

GKE_ACCELERATOR = "cloud.google.com/gke-accelerator"

GFD_PRODUCT = "nvidia.com/gpu.product"
GFD_COUNT = "nvidia.com/gpu.count"
GFD_MEMORY_MIB = "nvidia.com/gpu.memory"
GFD_DRIVER_FULL = "nvidia.com/cuda.driver-version.full"
GFD_DRIVER_PARTS = (
    "nvidia.com/cuda.driver-version.major",
    "nvidia.com/cuda.driver-version.minor",
    "nvidia.com/cuda.driver-version.revision",
)
GFD_DRIVER_PARTS_DEPRECATED = (
    "nvidia.com/cuda.driver.major",
    "nvidia.com/cuda.driver.minor",
    "nvidia.com/cuda.driver.rev",
)

AMD_FAMILY = "amd.com/gpu.family"
AMD_DEVICE_ID = "amd.com/gpu.device-id"
AMD_PRODUCT = "amd.com/gpu.product-name"
AMD_VRAM = "amd.com/gpu.vram"
AMD_DRIVER = "amd.com/gpu.driver-version"

NFD_PREFIX = "feature.node.kubernetes.io/"
NVIDIA_VENDOR = "10de"
AMD_VENDOR = "1002"
_NFD_PCI = re.compile(
    r"^feature\.node\.kubernetes\.io/pci-(?:(?P<cls>(?:03|12|0b)[0-9a-f]{2})_)?(?P<vendor>[0-9a-f]{4})"
    r"(?:_(?P<device>[0-9a-f]{4}))?(?:_[0-9a-f]{4})*\.present$"
)

CONTROL_PLANE_TAINTS = frozenset({"node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"})
"""Taints kubeadm (and most distributions) put on control-plane nodes: the fleet's pods stay off them."""


def nfd_pci_devices(labels: dict[str, str]) -> list[tuple[str, str | None, str]]:
    """``(vendor, device or None, label)`` for each display/accelerator PCI label NFD set on a node."""
    found: list[tuple[str, str | None, str]] = []
    for key, value in sorted(labels.items()):
        match = _NFD_PCI.match(key)
        if match and value == "true":
            found.append((match["vendor"], match["device"], key))
    return found
