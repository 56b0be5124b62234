"""The AMD GPU catalog: what ollama-fleet knows about the Radeon and Instinct cards a home rig may hold.

AMD GPUs run only on clusters the user already owns (GKE offers none). Ollama serves them with its ROCm
build (``ollama/ollama:<version>-rocm``), which supports a fixed list of LLVM ``gfx`` targets; a card
outside that list is refused unless the user forces a near target with ``HSA_OVERRIDE_GFX_VERSION``.

Sources:

- ``ollama/ollama docs/gpu.mdx`` ("AMD Radeon", Linux support table and LLVM target list): which cards
  the ROCm build supports; Ollama needs the ROCm v7 driver on Linux.
- AMD's ROCm "System requirements (Linux)" page: LLVM target and VRAM of the cards ROCm supports.
- LLVM's "User Guide for AMDGPU Backend" (processor table): the ``gfx`` target of older cards.
- ``ROCm/k8s-device-plugin cmd/k8s-node-labeller/amdgpu.ids``: the PCI device id of each card, as the
  node labeller reports it in ``amd.com/gpu.device-id``.

Like the NVIDIA catalog, a fact with ``verified=False`` is informative only and never refuses a config:
the VRAM figures (used only to suggest models) and the targets of cards Ollama does not list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from config.gpu_catalog import Fact

OLLAMA_GPU = "ollama/ollama docs/gpu.mdx (AMD Radeon: Linux support)"
ROCM_REQUIREMENTS = "https://rocm.docs.amd.com/projects/install-on-linux/en/latest/reference/system-requirements.html"
LLVM_TARGETS = "https://llvm.org/docs/AMDGPUUsage.html#processors"
AMDGPU_IDS = "ROCm/k8s-device-plugin cmd/k8s-node-labeller/amdgpu.ids"
AMD_SPECS = "https://www.amd.com/en/products/specifications/graphics.html"

ROCM_OVERRIDE_ENV = "HSA_OVERRIDE_GFX_VERSION"
"""Ollama's documented escape hatch: run an unsupported card as a near supported gfx target."""


@dataclass(frozen=True, slots=True)
class AmdGpuInfo:
    """One AMD card: its ``gpu:`` key, LLVM target, VRAM per device, PCI id, and Ollama ROCm support."""

    key: str
    name: str
    gfx_target: Fact[str]
    vram_gib: Fact[int]
    pci_device: Fact[str]
    ollama_rocm: Fact[bool]


OLLAMA_TARGETS = frozenset(
    {"gfx908", "gfx90a", "gfx942", "gfx950", "gfx1030", "gfx1100", "gfx1101", "gfx1102", "gfx1201"}
)
"""The LLVM targets ollama docs/gpu.mdx lists as known supported on Linux."""


def _card(key: str, name: str, gfx: str, vram: int, pci: str, *, supported: bool) -> AmdGpuInfo:
    listed = "listed" if supported else "not listed"
    target_source = f"{OLLAMA_GPU} (LLVM targets)" if gfx in OLLAMA_TARGETS else LLVM_TARGETS
    return AmdGpuInfo(
        key=key,
        name=name,
        gfx_target=Fact(gfx, target_source, verified=gfx in OLLAMA_TARGETS),
        vram_gib=Fact(vram, f"{ROCM_REQUIREMENTS}; {AMD_SPECS}", verified=False),
        pci_device=Fact(pci, AMDGPU_IDS),
        ollama_rocm=Fact(supported, f"{OLLAMA_GPU} ({listed})"),
    )


AMD_GPUS: tuple[AmdGpuInfo, ...] = (
    _card("amd-radeon-rx-9070-xt", "AMD Radeon RX 9070 XT", "gfx1201", 16, "7550", supported=True),
    _card("amd-radeon-rx-7900-xtx", "AMD Radeon RX 7900 XTX", "gfx1100", 24, "744c", supported=True),
    _card("amd-radeon-rx-7900-xt", "AMD Radeon RX 7900 XT", "gfx1100", 20, "744c", supported=True),
    _card("amd-radeon-rx-7600", "AMD Radeon RX 7600", "gfx1102", 8, "7480", supported=True),
    _card("amd-radeon-rx-6900-xt", "AMD Radeon RX 6900 XT", "gfx1030", 16, "73bf", supported=True),
    _card("amd-radeon-rx-6800-xt", "AMD Radeon RX 6800 XT", "gfx1030", 16, "73bf", supported=True),
    _card("amd-radeon-pro-w7900", "AMD Radeon PRO W7900", "gfx1100", 48, "7448", supported=True),
    _card("amd-instinct-mi100", "AMD Instinct MI100", "gfx908", 32, "738c", supported=True),
    _card("amd-instinct-mi210", "AMD Instinct MI210", "gfx90a", 64, "740f", supported=True),
    _card("amd-instinct-mi300x", "AMD Instinct MI300X", "gfx942", 192, "74a1", supported=True),
    _card("amd-radeon-rx-6700-xt", "AMD Radeon RX 6700 XT", "gfx1031", 12, "73df", supported=False),
    _card("amd-radeon-rx-5700-xt", "AMD Radeon RX 5700 XT", "gfx1010", 8, "731f", supported=False),
    _card("amd-radeon-vii", "AMD Radeon VII", "gfx906", 16, "66af", supported=False),
    _card("amd-radeon-rx-580", "AMD Radeon RX 580", "gfx803", 8, "67df", supported=False),
)


def _index(gpus: tuple[AmdGpuInfo, ...]) -> Mapping[str, AmdGpuInfo]:
    catalog: dict[str, AmdGpuInfo] = {}
    for gpu in gpus:
        if gpu.key in catalog:
            raise ValueError(f"duplicate AMD catalog key {gpu.key!r}")
        catalog[gpu.key] = gpu
    return MappingProxyType(catalog)


AMD_CATALOG: Mapping[str, AmdGpuInfo] = _index(AMD_GPUS)


def amd_info(key: str | None) -> AmdGpuInfo | None:
    """The AMD catalog entry for a ``gpu:`` key, or ``None`` (not an AMD card, or no GPU)."""
    return AMD_CATALOG.get(key) if key else None


def by_pci_device(device: str) -> tuple[AmdGpuInfo, ...]:
    """The cards that report this PCI device id (several share one die, e.g. 744c: RX 7900 XTX and XT)."""
    wanted = device.lower().removeprefix("0x")
    return tuple(gpu for gpu in AMD_GPUS if gpu.pci_device.value == wanted)
