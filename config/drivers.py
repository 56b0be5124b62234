"""Which NVIDIA driver a GPU and an Ollama image need: the facts behind the driver refusals.

Official ``ollama/ollama`` builds need driver >= 550, and >= 570 below compute capability 7.0
(ollama ``docs/gpu.mdx``, enforced in ``discover/cuda_compat.go``); they do not run below compute
capability 5.0 at all. Any other image must declare its own floor as ``ollama.minDriver``.
"""

from __future__ import annotations

import re

OFFICIAL_MIN_DRIVER = 550
OFFICIAL_MIN_DRIVER_OLD_GPU = 570
OLD_GPU_BELOW = (7, 0)
OFFICIAL_MIN_CAPABILITY = (5, 0)

_OFFICIAL = re.compile(
    r"^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)/)?ollama/ollama(?::[^@]+)?(?:@.+)?$"
)


def version_tuple(version: str) -> tuple[int, ...]:
    """``570.124.06`` → ``(570, 124, 6)`` for ordering; the first number is the driver branch."""
    return tuple(int(part) for part in version.split("."))


def branch(version: str) -> int:
    """The driver branch (``R570``) of a full version."""
    return version_tuple(version)[0]


def is_official_image(image: str) -> bool:
    """Whether ``image`` is an official Ollama build (any tag or digest of ``ollama/ollama``)."""
    return bool(_OFFICIAL.match(image))


def official_min_driver(capability: tuple[int, int]) -> int:
    """The oldest driver branch an official Ollama build accepts on a GPU of this compute capability."""
    return OFFICIAL_MIN_DRIVER_OLD_GPU if capability < OLD_GPU_BELOW else OFFICIAL_MIN_DRIVER
