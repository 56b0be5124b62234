"""How much host memory one Ollama replica needs, and the settings that keep it within that.

What Ollama's source says (ollama/ollama ``fb30760``, August 2026):

- Every loaded model runs in its own ``llama-server`` subprocess, which inherits Ollama's environment
  (``llm/llama_server.go``: ``cmd.Env = os.Environ()``), so llama.cpp's ``LLAMA_ARG_*`` variables reach it.
- Ollama starts ``llama-server`` without ``--cache-ram`` (same file, the launch flags), so llama.cpp's
  default applies: a host-RAM prompt cache of up to 8192 MiB per server (llama.cpp ``common/common.h``,
  ``cache_ram_mib = 8192``; ``common/arg.cpp``, ``--cache-ram``/``LLAMA_ARG_CACHE_RAM``, -1 no limit,
  0 off; https://github.com/ggml-org/llama.cpp/pull/16391). The reported 8 GiB per runner is confirmed.
- At most ``OLLAMA_MAX_LOADED_MODELS`` servers run at once; unset, 3 per GPU, or 3 without a GPU
  (``envconfig/config.go``, ``server/sched.go``: ``defaultModelsPerGPU = 3``).

The rule: each pool sets ``LLAMA_ARG_CACHE_RAM`` (1024 MiB per runner unless its ``env`` says otherwise)
and ``OLLAMA_MAX_LOADED_MODELS`` (its models, at most Ollama's default, unless its ``env`` says
otherwise), and its memory request and limit are at least::

    server + runners × (runner overhead + prompt cache) + (CPU pools) the weights of the largest runners

A pool without ``ollama.memory`` gets exactly that, rounded up to whole GiB; a pool that sets less is
refused. The server and runner overheads and the weight estimate (about 0.6 bytes per parameter, the
Q4_K_M default of the Ollama library, read from the tag such as ``:7b``) are estimates, not measurements.
GPU pools keep weights and KV cache in VRAM, so only the overheads and the prompt cache count there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from config.errors import Problem
from config.stack import PoolSpec

CACHE_RAM_ENV = "LLAMA_ARG_CACHE_RAM"
MAX_LOADED_ENV = "OLLAMA_MAX_LOADED_MODELS"
LLAMA_DEFAULT_CACHE_MIB = 8192
"""llama.cpp's own default: what each runner may hold if the pool does not set ``LLAMA_ARG_CACHE_RAM``."""
FLEET_CACHE_MIB = 1024
"""The fleet's default per runner: a few long prompts stay warm without an 8 GiB reservation per model."""
MODELS_PER_GPU = 3
"""Ollama's ``defaultModelsPerGPU``: runners allowed per GPU (or without a GPU) when unset."""
SERVER_MIB = 512
"""Estimate: the ``ollama serve`` process itself."""
RUNNER_MIB = 1024
"""Estimate: one ``llama-server`` beyond its prompt cache (CUDA context, host-side compute buffers)."""
BYTES_PER_PARAMETER = 0.6
"""Estimate: Q4_K_M weights, about 4.85 bits per parameter."""
UNSIZED_MODEL_MIB = 1024
"""Estimate for a CPU pool's model whose tag names no size (``nomic-embed-text``, ``all-minilm``)."""
MIB_PER_GIB = 1024

_WHOLE_NUMBER = re.compile(r"^-?[0-9]+$")
_SIZE_TAG = re.compile(r":(?:[a-z0-9.-]*-)?(\d+(?:\.\d+)?)b(?:-|$)")


@dataclass(frozen=True, slots=True)
class MemoryPlan:
    """What one replica of a pool needs, and why."""

    runners: int
    cache_mib: int
    weights_mib: int
    floor_mib: int
    env: dict[str, str]
    """The settings the rule adds to the pool's Ollama environment (never overriding the pool's own)."""

    @property
    def floor(self) -> str:
        """The floor as a Kubernetes quantity in whole GiB."""
        return f"{math.ceil(self.floor_mib / MIB_PER_GIB)}Gi"


def runners(pool: PoolSpec) -> int:
    """How many models one replica may hold at once."""
    configured = pool.ollama.env.get(MAX_LOADED_ENV, "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    allowed = MODELS_PER_GPU * (pool.gpus_per_node if pool.gpu is not None else 1)
    return max(1, min(len(pool.ollama.models), allowed))


def cache_mib(pool: PoolSpec) -> int:
    """Each runner's prompt cache: the pool's ``LLAMA_ARG_CACHE_RAM``, else the fleet's default (-1: unbounded)."""
    configured = pool.ollama.env.get(CACHE_RAM_ENV)
    if configured is None:
        return FLEET_CACHE_MIB
    value = int(configured) if _WHOLE_NUMBER.match(configured) else LLAMA_DEFAULT_CACHE_MIB
    return LLAMA_DEFAULT_CACHE_MIB if value < 0 else value


def model_mib(model: str) -> int:
    """Estimated weights of a model from its size tag (``qwen2.5:7b`` → about 4 GiB)."""
    found = _SIZE_TAG.search(model)
    if found is None:
        return UNSIZED_MODEL_MIB
    return math.ceil(float(found.group(1)) * 1e9 * BYTES_PER_PARAMETER / 2**20)


def memory_plan(pool: PoolSpec) -> MemoryPlan:
    """The pool's memory floor per replica, and the environment that keeps the replica under it."""
    count, cache = runners(pool), cache_mib(pool)
    weights = 0
    if pool.gpu is None:
        weights = sum(sorted((model_mib(m) for m in pool.ollama.models), reverse=True)[:count])
    env = {MAX_LOADED_ENV: str(count), CACHE_RAM_ENV: str(cache)}
    env = {key: value for key, value in env.items() if key not in pool.ollama.env}
    floor = SERVER_MIB + count * (RUNNER_MIB + cache) + weights
    return MemoryPlan(runners=count, cache_mib=cache, weights_mib=weights, floor_mib=floor, env=env)


def effective_memory(pool: PoolSpec) -> str:
    """The replica's memory request and limit: the pool's ``ollama.memory``, else the rule's floor."""
    return pool.ollama.memory or memory_plan(pool).floor


def quantity_mib(quantity: str) -> float:
    """A Kubernetes memory quantity in MiB (``8Gi`` → 8192, ``500M`` → about 477)."""
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return float(quantity[: -len(suffix)]) * factor / 2**20
    return float(quantity.rstrip("m")) / (1000 if quantity.endswith("m") else 1) / 2**20


def memory_problems(pool: PoolSpec, at: str) -> Iterator[Problem]:
    """An explicit ``ollama.memory`` below the rule's floor would let the kernel kill a runner mid-answer."""
    configured = pool.ollama.env.get(CACHE_RAM_ENV)
    if configured is not None and not _WHOLE_NUMBER.match(configured):
        yield Problem(
            f"{at}.ollama.env.{CACHE_RAM_ENV}",
            f"must be a whole number of MiB (-1: no limit, 0: off), got {configured!r}",
            f'e.g. {CACHE_RAM_ENV}: "{FLEET_CACHE_MIB}"',
        )
        return
    memory = pool.ollama.memory
    plan = memory_plan(pool)
    if memory is None or quantity_mib(memory) >= plan.floor_mib:
        return
    yield Problem(
        f"{at}.ollama.memory",
        f"{memory} is below what one replica may use: {plan.runners} runner(s) × ({RUNNER_MIB} MiB + "
        f"{plan.cache_mib} MiB prompt cache) + {SERVER_MIB} MiB"
        + (f" + {plan.weights_mib} MiB of weights" if plan.weights_mib else "")
        + f" = {plan.floor_mib} MiB",
        f"set memory: {plan.floor} or more, remove memory to get it, or lower "
        f"{MAX_LOADED_ENV} / {CACHE_RAM_ENV} in ollama.env",
    )
