"""The GPU catalog's data: one :class:`~config.gpu_catalog.GpuInfo` per GPU, each fact with its source.

Where the facts come from:

- Compute Engine's GPU pages (https://cloud.google.com/compute/docs/gpus and its "About GPUs" page), the
  K80 end-of-life notice, ollama ``docs/gpu.mdx`` and the cluster-toolkit ``gpu-definition`` module.
- NVIDIA's "CUDA Toolkit, Driver, and Architecture Matrix": compute capability per architecture, the first
  CUDA toolkit of each architecture, and the last driver branch that supports it.
- The CUDA release notes' table of the minimum driver for each toolkit. ``min_driver_branch`` is the
  branch that the first toolkit for the GPU's compute capability requires. That is a floor for the
  architecture. When the GPU shipped later than its architecture, or an earlier pre-release branch may
  have driven it, the fact is marked unverified.
- SkyPilot's GCP catalog, for GPUs per N1 VM and the A3 shapes. It is transcribed from Compute Engine's
  GPU tables and is used in production.

``vram_gib`` is per GPU device as the OS sees it. It is the variant GCP offers, or the smallest variant
of a GPU GCP never offered: a K80 board is two 12 GiB devices, an M60 board two 8 GiB devices.

Rule: a fact with ``verified=False`` could not be confirmed from a primary or clearly reliable source. It
is shown with ``†`` in the table of docs/gpu-catalog.md and never causes the config validator to refuse a config.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from config.gpu_catalog import Fact, GpuInfo

# --- Sources ----------------------------------------------------------------------------------------

GCP_GPUS = "https://cloud.google.com/compute/docs/gpus"
GCP_ABOUT = "https://cloud.google.com/compute/docs/gpus/about-gpus"
GCP_MEMORY = (
    "https://cloud.google.com/compute/docs/gpus (GPU memory column, as reproduced in "
    "https://huggingface.co/spaces/Elfsong/gcp_allocator)"
)
K80_EOL = "https://cloud.google.com/compute/docs/eol/k80-eol"
NEVER_ON_GCP = (
    "https://cloud.google.com/compute/docs/gpus (absent from every version of the page); "
    "https://cloud.google.com/dotnet/docs/reference/Google.Cloud.AIPlatform.V1/latest/"
    "Google.Cloud.AIPlatform.V1.AcceleratorType"
)
OLLAMA_GPU = "ollama/ollama docs/gpu.mdx"
NV_MATRIX = "https://docs.nvidia.com/datacenter/tesla/drivers/cuda-toolkit-driver-and-architecture-matrix.html"
CUDA_DRIVERS = "https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/ (Table 3, toolkit driver versions)"
R450_A100 = "https://docs.nvidia.com/datacenter/tesla/tesla-release-notes-450-51-05/index.html"
R450_A100_80GB = "https://docs.nvidia.com/datacenter/tesla/tesla-release-notes-450-216-04"
L4_CUDA12 = "https://www.github.com/GoogleCloudDataproc/initialization-actions/pull/1117"
K80_CC = "https://forums.developer.nvidia.com/t/tao-toolkit-nvidia-tesla-k80/190426/2"
CLUSTER_TOOLKIT = "GoogleCloudPlatform/cluster-toolkit modules/internal/gpu-definition/main.tf"
SKY_N1 = (
    "skypilot-org/skypilot sky/catalog/gcp_catalog.py (_NUM_ACC_TO_MAX_CPU_AND_MEMORY, transcribed from "
    "https://cloud.google.com/compute/docs/gpus)"
)
SKY_FIXED = "skypilot-org/skypilot sky/catalog/gcp_catalog.py (_ACC_INSTANCE_TYPE_DICTS)"
COS_INSTALLER_K80 = (
    "cos.googlesource.com/cos/tools src/cmd/cos_gpu_installer/internal/commands/install.go (--version help: "
    "R470 is the last driver family supporting K80; above it the installer falls back to an R470 build)"
)
M40_SPECS = "https://sysrqmts.com/it/gpus/compare/nvidia-tesla-m40-vs-nvidia-tesla-m40-24-gb"
M60_SPECS = "https://sysrqmts.com/pt/gpus/compare/nvidia-tesla-m40-vs-nvidia-tesla-m60"


def _src(*sources: str) -> str:
    """Several sources for one fact."""
    return "; ".join(sources)


def _note(source: str, note: str) -> str:
    """A source with what it says, or with the reasoning built on it."""
    return f"{source} ({note})"


# --- Constructor helpers ----------------------------------------------------------------------------

N1_DEFAULT = "n1-standard-8"

_Placement = tuple[Fact[tuple[str, ...]], Fact[tuple[int, ...]], Fact[Mapping[str, int]]]


def _n1(counts: tuple[int, ...], source: str = SKY_N1) -> _Placement:
    """Attached explicitly to N1 machine types, ``counts`` GPUs per VM."""
    return (
        Fact(("n1",), _src(GCP_ABOUT, GCP_GPUS)),
        Fact(counts, source),
        Fact(MappingProxyType({}), GCP_ABOUT),
    )


def _built_in(machines: dict[str, int], source: str) -> _Placement:
    """Built into the machine types ``machines`` (machine type -> GPUs)."""
    return (
        Fact((), GCP_ABOUT),
        Fact((), GCP_ABOUT),
        Fact(MappingProxyType(machines), source),
    )


def _nowhere() -> _Placement:
    """Never offered on GCP: no family, no machine type."""
    return (Fact((), NEVER_ON_GCP), Fact((), NEVER_ON_GCP), Fact(MappingProxyType({}), NEVER_ON_GCP))


def _gpu(
    key: str,
    name: str,
    architecture: str,
    *,
    cc: Fact[tuple[int, int]],
    vram: Fact[int],
    offered: Fact[bool],
    placement: _Placement,
    default: str | None,
    min_branch: Fact[int],
    max_branch: Fact[int | None],
) -> GpuInfo:
    families, counts, fixed = placement
    return GpuInfo(
        key=key,
        name=name,
        architecture=architecture,
        compute_capability=cc,
        vram_gib=vram,
        gcp_offered=offered,
        attach_families=families,
        attach_counts=counts,
        fixed_machines=fixed,
        default_machine_type=default,
        min_driver_branch=min_branch,
        max_driver_branch=max_branch,
        # Official builds support compute capability 5.0 and newer.
        official_ollama=Fact(cc.value >= (5, 0), OLLAMA_GPU, cc.verified),
    )


def _cc(major: int, minor: int, source: str = OLLAMA_GPU) -> Fact[tuple[int, int]]:
    return Fact((major, minor), source)


def _floor(branch: int, first_toolkit: str, driver_note: str, *more: str, verified: bool = True) -> Fact[int]:
    """``branch`` as the driver floor: the driver that the architecture's first CUDA toolkit requires."""
    sources = _src(_note(NV_MATRIX, first_toolkit), _note(CUDA_DRIVERS, driver_note), *more)
    return Fact(branch, sources, verified)


def _ampere_floor(release_notes: str) -> Fact[int]:
    return _floor(450, "Ampere's first toolkit is CUDA 11.0", "CUDA 11.0.1 RC needs 450.36.06", release_notes)


def _hopper_floor(why_unconfirmed: str) -> Fact[int]:
    return _floor(
        520,
        "Hopper's first toolkit is CUDA 11.8",
        f"CUDA 11.8 GA needs 520.61.05; {why_unconfirmed}",
        verified=False,
    )


ON_GCP = Fact(True, GCP_GPUS)
CURRENT: Fact[int | None] = Fact(None, _note(NV_MATRIX, "last driver: ongoing"))
R580_LAST: Fact[int | None] = Fact(580, _note(NV_MATRIX, "Maxwell, Pascal and Volta: last driver R580"))
MAXWELL_FLOOR = Fact(
    340,
    _note(NV_MATRIX, "estimate: Maxwell's first toolkit is CUDA 6.5, of the R340 era; M40/M60 shipped in 2015"),
    verified=False,
)
PASCAL_FLOOR = _floor(
    367,
    "Pascal's first toolkit is CUDA 8.0",
    "CUDA 8.0 GA needs 367.48; pre-release R361 drivers may have run early Pascal",
    verified=False,
)
G2_L4 = {
    "g2-standard-4": 1,
    "g2-standard-8": 1,
    "g2-standard-12": 1,
    "g2-standard-16": 1,
    "g2-standard-32": 1,
    "g2-standard-24": 2,
    "g2-standard-48": 4,
    "g2-standard-96": 8,
}

# --- The catalog ------------------------------------------------------------------------------------

GPUS: tuple[GpuInfo, ...] = (
    _gpu(
        "nvidia-tesla-k80",
        "NVIDIA Tesla K80",
        "Kepler",
        cc=_cc(3, 7, _src(K80_CC, _note(NV_MATRIX, "Kepler: 3.5 and 3.7"))),
        vram=Fact(12, _note(GCP_GPUS, "12 GB per GK210 device, two devices per board"), verified=False),
        offered=Fact(False, _note(K80_EOL, "unusable on Compute Engine since 2024-05-01")),
        placement=_n1((1, 2, 4, 8)),
        default=None,
        min_branch=Fact(340, _note(NV_MATRIX, "estimate: the K80 shipped in 2014, in the R340 era"), verified=False),
        max_branch=Fact(470, _src(_note(NV_MATRIX, "Kepler 3.5/3.7: last driver R470"), COS_INSTALLER_K80)),
    ),
    _gpu(
        "nvidia-tesla-m40",
        "NVIDIA Tesla M40",
        "Maxwell",
        cc=_cc(5, 2),
        vram=Fact(12, _note(M40_SPECS, "12 GB; a 24 GB variant exists"), verified=False),
        offered=Fact(False, NEVER_ON_GCP),
        placement=_nowhere(),
        default=None,
        min_branch=MAXWELL_FLOOR,
        max_branch=R580_LAST,
    ),
    _gpu(
        "nvidia-tesla-m60",
        "NVIDIA Tesla M60",
        "Maxwell",
        cc=_cc(5, 2),
        vram=Fact(8, _note(M60_SPECS, "8 GB per device, two devices per board"), verified=False),
        offered=Fact(False, NEVER_ON_GCP),
        placement=_nowhere(),
        default=None,
        min_branch=MAXWELL_FLOOR,
        max_branch=R580_LAST,
    ),
    _gpu(
        "nvidia-tesla-p4",
        "NVIDIA Tesla P4",
        "Pascal",
        cc=_cc(6, 1),
        vram=Fact(8, GCP_MEMORY),
        offered=ON_GCP,
        placement=_n1((1, 2, 4)),
        default=N1_DEFAULT,
        min_branch=PASCAL_FLOOR,
        max_branch=R580_LAST,
    ),
    _gpu(
        "nvidia-tesla-p100",
        "NVIDIA Tesla P100",
        "Pascal",
        cc=_cc(6, 0),
        vram=Fact(16, _note(GCP_GPUS, "16 GB HBM2 on GCP; a 12 GB PCIe variant exists"), verified=False),
        offered=ON_GCP,
        placement=_n1((1, 2, 4)),
        default=N1_DEFAULT,
        min_branch=PASCAL_FLOOR,
        max_branch=R580_LAST,
    ),
    _gpu(
        "nvidia-tesla-v100",
        "NVIDIA Tesla V100",
        "Volta",
        cc=_cc(7, 0),
        vram=Fact(16, GCP_MEMORY),
        offered=ON_GCP,
        placement=_n1((1, 2, 4, 8)),
        default=N1_DEFAULT,
        min_branch=_floor(384, "Volta's first toolkit is CUDA 9.0", "CUDA 9.0 needs 384.81"),
        max_branch=R580_LAST,
    ),
    _gpu(
        "nvidia-tesla-t4",
        "NVIDIA Tesla T4",
        "Turing",
        cc=_cc(7, 5),
        vram=Fact(16, GCP_MEMORY),
        offered=ON_GCP,
        placement=_n1((1, 2, 4)),
        default=N1_DEFAULT,
        min_branch=_floor(410, "Turing's first toolkit is CUDA 10.0", "CUDA 10.0.130 needs 410.48"),
        max_branch=CURRENT,
    ),
    _gpu(
        "nvidia-tesla-a100",
        "NVIDIA A100 40GB",
        "Ampere",
        cc=_cc(8, 0),
        vram=Fact(40, GCP_MEMORY),
        offered=ON_GCP,
        placement=_built_in(
            {
                "a2-highgpu-1g": 1,
                "a2-highgpu-2g": 2,
                "a2-highgpu-4g": 4,
                "a2-highgpu-8g": 8,
                "a2-megagpu-16g": 16,
            },
            _src(CLUSTER_TOOLKIT, SKY_FIXED),
        ),
        default="a2-highgpu-1g",
        min_branch=_ampere_floor(_note(R450_A100, "R450 release notes list A100 VBIOS")),
        max_branch=CURRENT,
    ),
    _gpu(
        "nvidia-a100-80gb",
        "NVIDIA A100 80GB",
        "Ampere",
        cc=_cc(8, 0),
        vram=Fact(80, GCP_MEMORY),
        offered=ON_GCP,
        placement=_built_in(
            {"a2-ultragpu-1g": 1, "a2-ultragpu-2g": 2, "a2-ultragpu-4g": 4, "a2-ultragpu-8g": 8},
            _src(CLUSTER_TOOLKIT, SKY_FIXED),
        ),
        default="a2-ultragpu-1g",
        min_branch=_ampere_floor(_note(R450_A100_80GB, "R450 release notes list A100 80GB VBIOS")),
        max_branch=CURRENT,
    ),
    _gpu(
        "nvidia-l4",
        "NVIDIA L4",
        "Ada Lovelace",
        cc=_cc(8, 9),
        vram=Fact(24, _note(GCP_GPUS, "g2-standard-4: 1 GPU, 24 GB GDDR6")),
        offered=ON_GCP,
        placement=_built_in(G2_L4, _src(CLUSTER_TOOLKIT, SKY_FIXED)),
        default="g2-standard-8",
        min_branch=Fact(
            525,
            _src(
                _note(L4_CUDA12, "L4 is supported with CUDA 12.0+"),
                _note(CUDA_DRIVERS, "CUDA 12.0 GA needs 525.60.13; Ada's first toolkit, CUDA 11.8, needs R520"),
            ),
            verified=False,
        ),
        max_branch=CURRENT,
    ),
    _gpu(
        "nvidia-h100-80gb",
        "NVIDIA H100 80GB",
        "Hopper",
        cc=_cc(9, 0),
        vram=Fact(80, _note(GCP_GPUS, "a3-highgpu-8g: 8 GPUs, 640 GB HBM3")),
        offered=ON_GCP,
        placement=_built_in(
            {
                "a3-highgpu-1g": 1,
                "a3-highgpu-2g": 2,
                "a3-highgpu-4g": 4,
                "a3-highgpu-8g": 8,
                "a3-edgegpu-8g": 8,
            },
            _src(
                _note(GCP_GPUS, "a3-highgpu-8g: 8 GPUs"),
                _note(SKY_FIXED, "a3-highgpu-1g/2g/4g/8g"),
                _note(GCP_ABOUT, "A3 High and A3 Edge carry nvidia-h100-80gb"),
            ),
        ),
        default="a3-highgpu-1g",
        min_branch=_hopper_floor("whether an earlier branch drove the H100 is unconfirmed"),
        max_branch=CURRENT,
    ),
    _gpu(
        "nvidia-h100-mega-80gb",
        "NVIDIA H100 80GB Mega",
        "Hopper",
        cc=_cc(9, 0),
        vram=Fact(80, _note(GCP_GPUS, "accelerator type nvidia-h100-mega-80gb")),
        offered=ON_GCP,
        placement=_built_in({"a3-megagpu-8g": 8}, _src(CLUSTER_TOOLKIT, SKY_FIXED)),
        default="a3-megagpu-8g",
        min_branch=_hopper_floor("whether an earlier branch drove the H100 is unconfirmed"),
        max_branch=CURRENT,
    ),
    _gpu(
        "nvidia-h200-141gb",
        "NVIDIA H200 141GB",
        "Hopper",
        cc=_cc(9, 0),
        vram=Fact(141, _note(GCP_ABOUT, "accelerator type nvidia-h200-141gb")),
        offered=ON_GCP,
        placement=_built_in({"a3-ultragpu-8g": 8}, _src(_note(GCP_ABOUT, "A3 Ultra"), SKY_FIXED)),
        default="a3-ultragpu-8g",
        min_branch=_hopper_floor("the H200 shipped later; its first branch is unconfirmed"),
        max_branch=CURRENT,
    ),
)
