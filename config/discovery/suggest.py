"""What discovery suggests for a pool it found: the Ollama image, and models that fit the GPU's memory.

A model is suggested when its download (4-bit quantised weights, as listed on
``https://ollama.com/library/<model>``) takes at most ``FIT_SHARE`` of one GPU's memory, leaving the rest
for the context (KV cache) and runtime: one replica then never splits a model across GPUs.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.amd_rules import ROCM_IMAGE
from config.drivers import OFFICIAL_MIN_CAPABILITY
from config.gpu_catalog import gpu_info
from config.stack import DEFAULT_OLLAMA_IMAGE

FIT_SHARE = 0.7
CHAT_MODELS = 2

MODEL_SIZES_GB: tuple[tuple[str, float], ...] = (
    ("qwen2.5:72b", 47.0),
    ("llama3.3:70b", 43.0),
    ("qwen2.5:32b", 20.0),
    ("gemma3:27b", 17.0),
    ("qwen2.5:14b", 9.0),
    ("gemma3:12b", 8.1),
    ("llama3.1:8b", 4.9),
    ("mistral:7b", 4.4),
    ("llama3.2:3b", 2.0),
    ("qwen2.5:3b", 1.9),
    ("llama3.2:1b", 1.3),
)
"""Chat models by download size in GB, largest first (ollama.com/library, default 4-bit tags)."""

CPU_MODELS = ("llama3.2:1b", "nomic-embed-text")
"""Small enough to answer on CPU cores: a 1B chat model and the embedding model (274 MB)."""

KEPLER_IMAGE = "dogkeeper886/ollama37:latest"
"""A community Ollama build for compute capability 3.7 (K80), https://github.com/dogkeeper886/ollama37."""
KEPLER_MIN_DRIVER = "470.42.01"
"""Its CUDA 11.4 runtime needs driver 470.42.01+ (CUDA Toolkit release notes, Table 3)."""


@dataclass(frozen=True, slots=True)
class ImageChoice:
    """The image for a pool and, for a non-official build, its driver floor."""

    image: str
    min_driver: str | None = None
    why: str = ""


def models_for(vram_gib: int | None) -> list[str]:
    """The largest chat models that fit one GPU of ``vram_gib``; none when the memory is unknown."""
    if vram_gib is None:
        return []
    budget = vram_gib * FIT_SHARE
    return [model for model, size in MODEL_SIZES_GB if size <= budget][:CHAT_MODELS]


def image_for(vendor: str, gpu: str | None) -> ImageChoice:
    """Ollama's ROCm build for AMD; a Kepler build below official Ollama's compute capability; else official."""
    if vendor == "amd":
        return ImageChoice(ROCM_IMAGE, why="Ollama's ROCm build")
    info = gpu_info(gpu) if gpu else None
    if info is not None and info.compute_capability.value < OFFICIAL_MIN_CAPABILITY:
        capability = ".".join(map(str, info.compute_capability.value))
        why = f"official Ollama builds need compute capability 5.0+, {info.name} is {capability}"
        return ImageChoice(KEPLER_IMAGE, KEPLER_MIN_DRIVER, why)
    return ImageChoice(DEFAULT_OLLAMA_IMAGE)
