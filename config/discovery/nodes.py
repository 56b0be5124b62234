"""What one node says about its accelerators: read from ``kubectl get nodes -o json``, tool by tool.

Each reader turns the labels of one tool (:mod:`config.discovery.labels`) into an :class:`Accelerator`;
the most precise wins (GKE, then GPU Feature Discovery, then AMD's labeller, then NFD's PCI ids, then a
bare device-plugin resource). A node none of them recognises is a CPU node.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from config.amd_data import AMD_CATALOG, AmdGpuInfo, by_pci_device
from config.discovery import labels as L
from config.gpu_catalog import GPU_CATALOG

PCI_IDS = "https://pci-ids.ucw.cz/read/PC/10de"
NVIDIA_PCI_DEVICES: Mapping[str, str] = {
    "102d": "nvidia-tesla-k80",  # GK210GL [Tesla K80]
    "17fd": "nvidia-tesla-m40",  # GM200GL [Tesla M40]
    "1db4": "nvidia-tesla-v100",  # GV100GL [Tesla V100 PCIe 16GB]
    "1eb8": "nvidia-tesla-t4",  # TU104GL [Tesla T4]
    "27b8": "nvidia-l4",  # AD104GL [L4]
}
"""NVIDIA PCI device ids (``PCI_IDS``) of catalog GPUs, for nodes that only NFD has labelled."""


@dataclass(frozen=True, slots=True)
class Accelerator:
    """The accelerator kind of a node, as far as its labels tell.

    ``gpu`` is a catalog key (NVIDIA or AMD) or None when the model is unknown; ``product`` is what the
    labels call it; ``label`` is the key=value that identifies this kind (a node selector candidate).
    """

    vendor: str
    gpu: str | None
    product: str
    count: int | None
    vram_gib: int | None
    driver: str | None
    source: str
    label: tuple[str, str] | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Node:
    """A node: its name, labels, hard taints, kubelet version and accelerator (None: CPU only)."""

    name: str
    labels: dict[str, str]
    taints: list[dict[str, str]] = field(default_factory=list)
    kubelet: str = ""
    accelerator: Accelerator | None = None
    advertised: bool = False
    """Whether a device plugin already advertises the node's GPUs as a resource."""

    @property
    def control_plane(self) -> bool:
        """A control-plane node whose taint keeps workloads off."""
        return any(t.get("key") in L.CONTROL_PLANE_TAINTS for t in self.taints)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _nvidia_key(product: str) -> str | None:
    """The catalog key of a GFD product string (``Tesla-K80``, ``NVIDIA-L4``, ``NVIDIA-A100-SXM4-80GB``)."""
    words = [w for w in product.lower().split("-") if w not in {"nvidia", "tesla"}]
    if not words:
        return None
    model = words[0]
    if model == "a100":
        return "nvidia-a100-80gb" if "80gb" in words else "nvidia-tesla-a100"
    if model in {"h100", "h200"}:
        return next((key for key in GPU_CATALOG if key.startswith(f"nvidia-{model}-")), None)
    for key in (f"nvidia-tesla-{model}", f"nvidia-{model}"):
        if key in GPU_CATALOG:
            return key
    return None


def _gfd_driver(labels: Mapping[str, str]) -> str | None:
    full = labels.get(L.GFD_DRIVER_FULL)
    if full:
        return full
    for keys in (L.GFD_DRIVER_PARTS, L.GFD_DRIVER_PARTS_DEPRECATED):
        parts = [labels.get(key, "") for key in keys]
        if parts[0] and parts[1]:
            return ".".join(part for part in parts if part)
    return None


def _from_gke(labels: Mapping[str, str], count: int | None) -> Accelerator | None:
    key = labels.get(L.GKE_ACCELERATOR)
    if not key:
        return None
    gpu = key if key in GPU_CATALOG else None
    vram = GPU_CATALOG[key].vram_gib.value if gpu else None
    return Accelerator("nvidia", gpu, key, count, vram, _gfd_driver(labels), "GKE", (L.GKE_ACCELERATOR, key))


def _from_gfd(labels: Mapping[str, str], count: int | None) -> Accelerator | None:
    product = labels.get(L.GFD_PRODUCT)
    if not product:
        return None
    memory = _int(labels.get(L.GFD_MEMORY_MIB))
    vram = round(memory / 1024) if memory else None
    gpu = _nvidia_key(product)
    if vram is None and gpu:
        vram = GPU_CATALOG[gpu].vram_gib.value
    count = _int(labels.get(L.GFD_COUNT)) or count
    label = (L.GFD_PRODUCT, product)
    return Accelerator("nvidia", gpu, product, count, vram, _gfd_driver(labels), "GPU Feature Discovery", label)


def _amd_product_key(product: str) -> str | None:
    wanted = re.sub(r"[^a-z0-9]+", "-", product.lower()).strip("-")
    return next((key for key, info in AMD_CATALOG.items() if _slug(info.name) == wanted), None)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _from_amd(labels: Mapping[str, str], count: int | None) -> Accelerator | None:
    has_labels = any(key.startswith("amd.com/gpu.") for key in labels)
    if not has_labels and count is None:
        return None
    product, device = labels.get(L.AMD_PRODUCT), labels.get(L.AMD_DEVICE_ID)
    gpu = _amd_product_key(product) if product else None
    notes: tuple[str, ...] = ()
    if gpu is None and device:
        gpu, notes = _amd_by_device(device)
    label = (L.AMD_PRODUCT, product) if product else (L.AMD_DEVICE_ID, device) if device else None
    vram_text = labels.get(L.AMD_VRAM, "")
    vram = _int(vram_text.removesuffix("G")) or (AMD_CATALOG[gpu].vram_gib.value if gpu else None)
    name = product or (f"AMD device {device}" if device else "AMD GPU")
    driver = labels.get(L.AMD_DRIVER)
    return Accelerator("amd", gpu, name, count, vram, driver, "AMD node labeller", label, notes)


def _amd_by_device(device: str) -> tuple[str | None, tuple[str, ...]]:
    cards: tuple[AmdGpuInfo, ...] = by_pci_device(device)
    if len(cards) == 1:
        return cards[0].key, ()
    if cards:
        names = " or ".join(card.name for card in cards)
        return None, (f"PCI device {device} is {names}; set gpu to the one you have",)
    return None, ()


def _from_nfd(labels: Mapping[str, str], count: int | None) -> Accelerator | None:
    for vendor, device, key in L.nfd_pci_devices(dict(labels)):
        if vendor == L.NVIDIA_VENDOR:
            gpu = NVIDIA_PCI_DEVICES.get(device or "")
            vram = GPU_CATALOG[gpu].vram_gib.value if gpu else None
            product = f"NVIDIA device {device}" if device else "NVIDIA GPU"
            return Accelerator("nvidia", gpu, product, count, vram, None, "Node Feature Discovery", (key, "true"))
        if vendor == L.AMD_VENDOR:
            gpu, notes = _amd_by_device(device) if device else (None, ())
            vram = AMD_CATALOG[gpu].vram_gib.value if gpu else None
            product = f"AMD device {device}" if device else "AMD GPU"
            return Accelerator("amd", gpu, product, count, vram, None, "Node Feature Discovery", (key, "true"), notes)
    return None


def accelerator_of(labels: Mapping[str, str], capacity: Mapping[str, str]) -> Accelerator | None:
    """The node's accelerator, from the most precise source that labelled it."""
    nvidia, amd = _int(capacity.get(L.NVIDIA_RESOURCE)), _int(capacity.get(L.AMD_RESOURCE))
    found = (
        _from_gke(labels, nvidia)
        or _from_gfd(labels, nvidia)
        or _from_amd(labels, amd)
        or _from_nfd(labels, nvidia or amd)
    )
    if found is None and nvidia:
        return Accelerator("nvidia", None, "NVIDIA GPU", nvidia, None, None, "nvidia.com/gpu capacity")
    return found


def parse_nodes(document: Mapping[str, Any]) -> list[Node]:
    """The nodes of a ``kubectl get nodes -o json`` document (a ``List`` of ``Node`` objects)."""
    nodes: list[Node] = []
    for item in document.get("items", []):
        metadata, status = item.get("metadata", {}), item.get("status", {})
        labels = {str(k): str(v) for k, v in (metadata.get("labels") or {}).items()}
        capacity = {str(k): str(v) for k, v in (status.get("capacity") or {}).items()}
        taints = [
            {"key": str(t.get("key", "")), "value": str(t.get("value", "")), "effect": str(t.get("effect", ""))}
            for t in (item.get("spec", {}).get("taints") or [])
            if t.get("effect") in ("NoSchedule", "NoExecute")
        ]
        accelerator = accelerator_of(labels, capacity)
        advertised = any(_int(capacity.get(r)) for r in (L.NVIDIA_RESOURCE, L.AMD_RESOURCE))
        kubelet = str(status.get("nodeInfo", {}).get("kubeletVersion", ""))
        nodes.append(Node(str(metadata.get("name", "")), labels, taints, kubelet, accelerator, advertised))
    return sorted(nodes, key=lambda node: node.name)
