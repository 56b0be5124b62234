"""Turn an existing cluster's nodes into a proposed stack: one pool per kind of accelerator, plus CPU.

The proposal is validated exactly as ``python -m config check`` validates a stack file; every problem
left is something the nodes could not decide, and is reported as a choice for the user instead of being
guessed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from config.discovery.nodes import Accelerator, Node
from config.discovery.suggest import CPU_MODELS, image_for, models_for
from config.errors import ConfigError, Problem
from config.loading import validate_stack

HOSTNAME = "kubernetes.io/hostname"
FALLBACK_LABEL = "fleet/pool"
ACCELERATOR_PREFIXES = ("cloud.google.com/gke-accelerator", "nvidia.com/", "amd.com/", "feature.node.kubernetes.io/")
_NAME_PREFIXES = ("nvidia-tesla-", "nvidia-", "amd-radeon-pro-", "amd-radeon-", "amd-instinct-", "amd-")
REQUIRED = "(required) "
"""Marks a choice without which ``python -m config check`` refuses the proposal."""
_DRIVER = re.compile(r"^[0-9]{3}\.[0-9]{1,3}(\.[0-9]{1,3})?$")


@dataclass
class PoolProposal:
    """One proposed pool: its stack entry, the facts behind it, and what is left to the user."""

    spec: dict[str, Any]
    facts: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    vram_gib: int | None = None


@dataclass
class Proposal:
    """A whole proposed stack: bare config keys, its pools, and what is left to the user."""

    source: str
    values: dict[str, Any]
    pools: list[PoolProposal]
    todo: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: bool = False


def _kind(accelerator: Accelerator) -> tuple[str, str]:
    return accelerator.vendor, accelerator.gpu or accelerator.product


def _pool_name(accelerator: Accelerator | None, taken: set[str]) -> str:
    if accelerator is None:
        base = "cpu"
    else:
        base = accelerator.gpu or _slug(accelerator.product)
        base = next((base.removeprefix(p) for p in _NAME_PREFIXES if base.startswith(p)), base)
    base = base[:26].strip("-") or "gpu"
    base = base if base[0].isalpha() else f"gpu-{base}"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    taken.add(name)
    return name


def _selects_exactly(key: str, value: str, group: Sequence[Node], others: Sequence[Node]) -> bool:
    return all(n.labels.get(key) == value for n in group) and not any(n.labels.get(key) == value for n in others)


def _selector(
    name: str, group: Sequence[Node], others: Sequence[Node], preferred: tuple[str, str] | None, todo: list[str]
) -> dict[str, str]:
    """A label that selects exactly ``group``: the accelerator's own, another shared one, or one to add."""
    if preferred and _selects_exactly(*preferred, group, others):
        return {preferred[0]: preferred[1]}
    shared = sorted(set.intersection(*(set(n.labels.items()) for n in group)))
    ranked = sorted(
        (item for item in shared if item[0] != HOSTNAME and _selects_exactly(*item, group, others)),
        key=lambda item: (not item[0].startswith(ACCELERATOR_PREFIXES), item),
    )
    if ranked:
        return {ranked[0][0]: ranked[0][1]}
    if len(group) == 1:
        return {HOSTNAME: group[0].name}
    hosts = " ".join(n.name for n in group)
    todo.append(f"label the pool's nodes first: kubectl label node {hosts} {FALLBACK_LABEL}={name}")
    return {FALLBACK_LABEL: name}


def _taint(group: Sequence[Node], facts: list[str]) -> dict[str, str] | None:
    taints = {tuple(sorted((t["key"], t["value"], t["effect"]) for t in n.taints)) for n in group}
    if len(taints) != 1:
        facts.append("the nodes carry different taints; a pool tolerates one: align them or split the pool")
        return None
    found = next(iter(taints))
    if len(found) > 1:
        facts.append(f"the nodes carry {len(found)} taints; a pool tolerates one: set taint to the one that matters")
    if not found:
        return None
    key, value, effect = found[0]
    return {"key": key, "value": value, "effect": effect} if value else {"key": key, "effect": effect}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _gpu_fields(accelerators: Sequence[Accelerator], proposal: PoolProposal) -> None:
    first = accelerators[0]
    counts = sorted({a.count for a in accelerators if a.count})
    spec = proposal.spec
    spec["gpu"] = first.gpu or _slug(first.product)
    spec["gpusPerNode"] = counts[0] if counts else 1
    if not counts:
        proposal.todo.append("gpusPerNode: no label or resource gives the GPU count; set it")
    elif len(counts) > 1:
        proposal.facts.append(f"GPUs per node differ ({counts}); each replica takes {counts[0]}")
    drivers = Counter(a.driver for a in accelerators if a.driver)
    if first.vendor == "amd":
        if drivers:
            proposal.facts.append(f"amdgpu driver {drivers.most_common(1)[0][0]} (the host's; Ollama needs ROCm v7)")
        proposal.todo.append(
            "ollama.supplementalGroups: the nodes' render and video group ids (getent group render video), so "
            "the unprivileged Ollama may open /dev/kfd; not needed if containerd sets "
            "device_ownership_from_security_context"
        )
    elif drivers and _DRIVER.match(pin := drivers.most_common(1)[0][0]):
        spec["driver"] = pin
        if len(drivers) > 1:
            proposal.facts.append(f"nodes run drivers {sorted(drivers)}; the driver gate accepts only {pin}")
    else:
        proposal.todo.append("driver: no label gives the NVIDIA driver; pin `nvidia-smi --query-gpu=driver_version`")


def _gpu_pool(name: str, group: Sequence[Node], others: Sequence[Node]) -> PoolProposal:
    accelerators = [n.accelerator for n in group if n.accelerator is not None]
    first = accelerators[0]
    proposal = PoolProposal({"name": name})
    _gpu_fields(accelerators, proposal)
    vram = min((a.vram_gib for a in accelerators if a.vram_gib), default=None)
    proposal.vram_gib = vram
    hosts = ", ".join(n.name for n in group)
    memory = f", {vram} GiB each" if vram else ", memory unknown"
    driver = f", driver {first.driver}" if first.driver and first.vendor == "nvidia" else ""
    found = f"{first.product} (from {first.source}){memory}{driver}"
    proposal.facts.insert(0, f"{len(group)} node(s): {hosts}; {found}")
    proposal.facts.extend(note for a in accelerators for note in a.notes)
    proposal.spec["nodeSelector"] = _selector(name, group, others, first.label, proposal.todo)
    taint = _taint(group, proposal.facts)
    if taint:
        proposal.spec["taint"] = taint
    image = image_for(first.vendor, first.gpu)
    ollama: dict[str, Any] = {"image": image.image}
    if image.min_driver:
        ollama["minDriver"] = image.min_driver
    if image.why:
        proposal.facts.append(f"image {image.image}: {image.why}")
    ollama["models"] = models_for(vram)
    if not ollama["models"]:
        proposal.todo.append("ollama.models: the GPU memory is unknown; list the models to pull")
    proposal.spec["ollama"] = ollama
    return proposal


def _cpu_pool(name: str, group: Sequence[Node], others: Sequence[Node]) -> PoolProposal:
    proposal = PoolProposal(
        {"name": name}, [f"{len(group)} node(s) without accelerators: {', '.join(n.name for n in group)}"]
    )
    proposal.spec["nodeSelector"] = _selector(name, group, others, None, proposal.todo)
    taint = _taint(group, proposal.facts)
    if taint:
        proposal.spec["taint"] = taint
    proposal.spec["ollama"] = {"models": list(CPU_MODELS)}
    return proposal


def _groups(nodes: Sequence[Node]) -> dict[tuple[str, str], list[Node]]:
    groups: dict[tuple[str, str], list[Node]] = {}
    for node in nodes:
        if node.accelerator is not None:
            groups.setdefault(_kind(node.accelerator), []).append(node)
    return groups


def _pools(nodes: Sequence[Node], notes: list[str]) -> list[PoolProposal]:
    taken: set[str] = set()
    pools: list[PoolProposal] = []
    for group in _groups(nodes).values():
        others = [n for n in nodes if n not in group]
        pools.append(_gpu_pool(_pool_name(group[0].accelerator, taken), group, others))
    cpu = [n for n in nodes if n.accelerator is None and not n.control_plane]
    if len(cpu) > 1 or (cpu and not pools):
        kept = [cpu[0]] if len(cpu) > 1 else []
        group = cpu[len(kept) :]
        if kept:
            notes.append(f"{kept[0].name} is left out of every pool, for the router (it avoids pools' nodes)")
        pools.append(_cpu_pool(_pool_name(None, taken), group, [n for n in nodes if n not in group]))
    elif cpu:
        notes.append(f"{cpu[0].name} (no accelerator) is left for the router, which avoids every pool's nodes")
    return pools


def _cluster(nodes: Sequence[Node], context: str | None, notes: list[str]) -> dict[str, Any]:
    cluster: dict[str, Any] = {"type": "existing", "name": context or "home-rig"}
    if context:
        cluster["context"] = context
    versions = Counter(m[1] for n in nodes if (m := re.match(r"^v?(1\.[0-9]{2})\b", n.kubelet)))
    if versions:
        cluster["kubernetesVersion"] = versions.most_common(1)[0][0]
    cluster["namespace"] = "ollama-fleet"
    gpu_nodes = [n for n in nodes if n.accelerator is not None]
    cluster["devicePlugin"] = any(not n.advertised for n in gpu_nodes)
    served = [n.name for n in gpu_nodes if n.advertised]
    if cluster["devicePlugin"] and served:
        notes.append(
            f"devicePlugin: true puts a device plugin on every GPU pool's nodes, but {', '.join(served)} already "
            "advertise GPUs: remove their plugin first, or set devicePlugin: false and install it on the others"
        )
    return cluster


def propose(nodes: Sequence[Node], *, source: str, context: str | None, router_image: str | None) -> Proposal:
    """The proposed stack for these nodes, validated; what validation still refuses becomes the user's to-do."""
    notes: list[str] = []
    skipped = [n.name for n in nodes if n.control_plane and n.accelerator is None]
    if skipped:
        notes.append(f"control-plane node(s) {', '.join(skipped)} are tainted for the control plane: not used")
    pools = _pools(nodes, notes)
    values: dict[str, Any] = {"cluster": _cluster(nodes, context, notes), "pools": [p.spec for p in pools]}
    sized = [p for p in pools if p.vram_gib and p.spec["ollama"]["models"]]
    if sized:
        values["defaultPool"] = max(sized, key=lambda p: p.vram_gib or 0).spec["name"]
    router: dict[str, Any] = {"replicas": 1, "service": {"type": "ClusterIP"}}
    if router_image:
        router["image"] = router_image
    values["router"] = router
    notes.append("router.service is ClusterIP: to reach it from the LAN see router.service and router.tls")
    proposal = Proposal(source, values, pools, notes=notes)
    _left_to_choose(proposal)
    return proposal


def _left_to_choose(proposal: Proposal) -> None:
    """Validate as ``check`` does; each problem becomes a required choice of its pool (or of the stack)."""
    try:
        validate_stack(proposal.values, "proposal")
    except ConfigError as error:
        for problem in error.problems:
            match = re.match(r"^pools\[(\d+)\]\.?", problem.path)
            target = proposal.pools[int(match[1])].todo if match else proposal.todo
            path = problem.path[match.end() :] if match else problem.path
            text = f"{REQUIRED}{Problem(path, problem.message, problem.fix)}"
            target[:] = [item for item in target if not item.startswith(f"{path}:")]
            if text not in target:
                target.append(text)
        proposal.refused = True
