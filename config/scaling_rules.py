"""When a pool's ``scaleToZero`` saves nothing or cannot work, say so before anything is deployed."""

from __future__ import annotations

from collections.abc import Iterator

from config.errors import Problem
from config.stack import PoolSpec


def scale_to_zero_problems(pool: PoolSpec, index: int, *, gke: bool) -> Iterator[Problem]:
    """Refuse a sleeping pool whose GPU nodes would keep running anyway."""
    spec = pool.ollama.scale_to_zero
    if spec is None or pool.external is not None:
        return  # an external pool has no ollama key at all, which its own rules refuse
    if gke and pool.nodes.min > 0:
        yield Problem(
            f"pools[{index}].ollama.scaleToZero",
            f"saves nothing with nodes.min {pool.nodes.min}: GKE's autoscaler keeps that many GPU nodes "
            "running while Ollama sleeps",
            f"set pools[{index}].nodes.min: 0, or remove ollama.scaleToZero",
        )
