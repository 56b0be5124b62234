"""Rules for an AMD pool: an existing cluster, Ollama's ROCm build, a card that build supports, no NVIDIA pins.

The amdgpu kernel driver and ROCm belong to the host (Ollama needs ROCm v7 on Linux, ollama
``docs/gpu.mdx``); the stack neither installs nor gates them, so ``driver`` and ``ollama.minDriver``,
which pin NVIDIA drivers, have no meaning on an AMD pool.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from config.amd_data import ROCM_OVERRIDE_ENV, AmdGpuInfo
from config.errors import Problem
from config.stack import DEFAULT_OLLAMA_IMAGE, PoolSpec

ROCM_IMAGE = f"{DEFAULT_OLLAMA_IMAGE}-rocm"
"""Ollama publishes its ROCm build as ``ollama/ollama:<version>-rocm`` (and ``:rocm``)."""

_ROCM_TAG = re.compile(r":[^/@]*rocm[^/@]*(@.+)?$")


def is_rocm_image(image: str) -> bool:
    """Whether the image's tag names a ROCm build (``ollama/ollama:0.32.15-rocm``, ``...:rocm@sha256:...``)."""
    return bool(_ROCM_TAG.search(image))


def amd_pool_problems(pool: PoolSpec, info: AmdGpuInfo, at: str, *, gke: bool) -> Iterator[Problem]:
    """Every reason an AMD pool cannot work as configured."""
    if gke:
        yield Problem(
            f"{at}.gpu",
            f"{info.key} ({info.name}) is an AMD GPU and GKE offers none",
            "run this pool on a cluster you already own (cluster.type: existing, see Pulumi.home.yaml)",
        )
    supported = info.ollama_rocm
    if supported.verified and not supported.value and ROCM_OVERRIDE_ENV not in pool.ollama.env:
        yield Problem(
            f"{at}.gpu",
            f"{info.name} ({info.gfx_target.value}) is not supported by Ollama's ROCm build",
            f"use a supported card, or at your own risk force a near target with ollama.env.{ROCM_OVERRIDE_ENV} "
            '(e.g. "10.3.0" for gfx1031)',
        )
    if not is_rocm_image(pool.ollama.image):
        yield Problem(
            f"{at}.ollama.image",
            f"{pool.ollama.image!r} is not a ROCm build, so Ollama would not see the {info.name}",
            f"use Ollama's ROCm image, e.g. image: {ROCM_IMAGE}",
        )
    if pool.driver is not None:
        yield Problem(
            f"{at}.driver",
            "pins an NVIDIA driver; an AMD pool uses the host's amdgpu driver and ROCm",
            "remove driver (install ROCm v7 on the host)",
        )
    if pool.ollama.min_driver is not None:
        yield Problem(f"{at}.ollama.minDriver", "is an NVIDIA driver floor; an AMD pool has none", "remove it")
