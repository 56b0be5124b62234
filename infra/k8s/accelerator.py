"""Which vendor's GPUs a pool has, and so which extended resource its pods ask the device plugin for.

NVIDIA's device plugin (and GKE's) advertises ``nvidia.com/gpu``; AMD's advertises ``amd.com/gpu``
(ROCm/k8s-device-plugin README). Asking for the resource is also how an AMD pod gets ``/dev/kfd`` and its
``/dev/dri`` render nodes: the plugin hands them to the container, so the pod mounts nothing itself.
"""

from __future__ import annotations

from config.amd_data import amd_info
from config.stack import PoolSpec
from infra.k8s.helpers import GPU_RESOURCE

AMD_RESOURCE = "amd.com/gpu"


def is_amd(pool: PoolSpec) -> bool:
    """Whether the pool's GPU is an AMD card."""
    return amd_info(pool.gpu) is not None


def is_nvidia(pool: PoolSpec) -> bool:
    """Whether the pool's GPU is an NVIDIA one (needs NVIDIA's driver, gate and device plugin)."""
    return pool.gpu is not None and not is_amd(pool)


def gpu_resource(pool: PoolSpec) -> str:
    """The extended resource the pool's Ollama container sets a limit on."""
    return AMD_RESOURCE if is_amd(pool) else GPU_RESOURCE
