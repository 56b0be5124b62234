"""A small model of kube-scheduler's filters, written from Kubernetes' rules, not from the program's code.

It answers one question — on which nodes may this pod run? — using node selectors, required node
affinity (In/NotIn/Exists/DoesNotExist/Gt/Lt), taints against tolerations (Equal/Exists, empty key, empty
effect) and extended-resource capacity (``nvidia.com/gpu``, ``amd.com/gpu``). GKE's admission step is modelled too:
ExtendedResourceToleration adds ``nvidia.com/gpu: Exists`` to pods that request GPUs.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from config.k8s_names import POOL_LABEL

GPU = "nvidia.com/gpu"
HARD_EFFECTS = ("NoSchedule", "NoExecute")
GKE_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "PREFER_NO_SCHEDULE": "PreferNoSchedule", "NO_EXECUTE": "NoExecute"}


@dataclass
class Node:
    """A node as the scheduler sees it."""

    name: str
    pool: str
    labels: dict[str, str]
    taints: list[dict[str, str]] = field(default_factory=list)
    gpus: int = 0
    extended: dict[str, int] = field(default_factory=dict)
    """Extended resources other than ``nvidia.com/gpu`` (which is ``gpus``), e.g. ``amd.com/gpu``."""

    def capacity(self, resource: str) -> int:
        """How many of an extended resource the node advertises."""
        return self.gpus if resource == GPU else self.extended.get(resource, 0)


@dataclass
class Pod:
    """A pod template reduced to what filtering reads."""

    name: str
    spec: dict[str, Any]

    @property
    def gpu_request(self) -> int:
        """Effective ``nvidia.com/gpu`` request."""
        return self.request(GPU)

    def request(self, resource: str) -> int:
        """Effective request: the larger of the biggest init container and the sum of the app containers."""

        def amount(container: Mapping[str, Any]) -> int:
            res = container.get("resources", {})
            value = res.get("requests", {}).get(resource, res.get("limits", {}).get(resource, 0))
            return int(value)

        init = max((amount(c) for c in self.spec.get("initContainers", [])), default=0)
        return max(init, sum(amount(c) for c in self.spec.get("containers", [])))

    def extended_resources(self) -> set[str]:
        """The extended resources (``vendor/name``) any container asks for."""
        found: set[str] = set()
        for container in [*self.spec.get("initContainers", []), *self.spec.get("containers", [])]:
            res = container.get("resources", {})
            found |= {key for part in ("requests", "limits") for key in res.get(part, {}) if "/" in key}
        return found


def admit_on_gke(pod: Pod) -> Pod:
    """ExtendedResourceToleration: a pod requesting ``nvidia.com/gpu`` tolerates GKE's GPU taint."""
    if pod.gpu_request == 0:
        return pod
    spec = copy.deepcopy(pod.spec)
    spec.setdefault("tolerations", []).append({"key": GPU, "operator": "Exists", "effect": "NoSchedule"})
    return Pod(pod.name, spec)


def _expression_holds(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, operator = expression["key"], expression["operator"]
    values = expression.get("values", [])
    present = key in labels
    if operator == "In":
        return present and labels[key] in values
    if operator == "NotIn":
        return not present or labels[key] not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present:
        number, bound = int(labels[key]), int(values[0])
        return number > bound if operator == "Gt" else number < bound
    if operator in ("Gt", "Lt"):
        return False
    raise ValueError(f"unknown operator {operator!r}")


def affinity_allows(spec: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Required node affinity: some term whose expressions all hold; an empty term matches no node."""
    required = spec.get("affinity", {}).get("nodeAffinity", {}).get("requiredDuringSchedulingIgnoredDuringExecution")
    if not required:
        return True
    return any(
        bool(term.get("matchExpressions")) and all(_expression_holds(e, labels) for e in term["matchExpressions"])
        for term in required["nodeSelectorTerms"]
    )


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, str]) -> bool:
    """Kubernetes' ToleratesTaint: effect (empty = all), key (empty with Exists = all), operator/value."""
    effect = toleration.get("effect", "")
    if effect and effect != taint["effect"]:
        return False
    key = str(toleration.get("key", ""))
    operator = str(toleration.get("operator", "Equal"))
    if not key:
        return operator == "Exists"
    if key != taint["key"]:
        return False
    if operator == "Exists":
        return True
    return str(toleration.get("value", "")) == taint.get("value", "")


def why_not(pod: Pod, node: Node) -> str | None:
    """None when ``pod`` may run on ``node``, else the first filter that rejects it."""
    spec = pod.spec
    for key, value in spec.get("nodeSelector", {}).items():
        if node.labels.get(key) != value:
            return f"nodeSelector {key}={value}"
    if not affinity_allows(spec, node.labels):
        return "required node affinity"
    for taint in node.taints:
        if taint["effect"] in HARD_EFFECTS and not any(tolerates(t, taint) for t in spec.get("tolerations", [])):
            return f"untolerated taint {taint['key']}={taint.get('value', '')}:{taint['effect']}"
    for resource in sorted(pod.extended_resources() | {GPU}):
        if pod.request(resource) > node.capacity(resource):
            return f"needs {pod.request(resource)} {resource}, node has {node.capacity(resource)}"
    return None


def feasible(pod: Pod, nodes: Iterable[Node]) -> list[Node]:
    """The nodes the pod may run on."""
    return [node for node in nodes if why_not(pod, node) is None]


def placement_errors(pod: Pod, nodes: Sequence[Node], allowed_pools: set[str]) -> list[str]:
    """What is wrong with where ``pod`` can land: nowhere at all, or on a node outside ``allowed_pools``."""
    fits = feasible(pod, nodes)
    errors = [f"{pod.name} may run on {n.name} (pool {n.pool})" for n in fits if n.pool not in allowed_pools]
    if not any(n.pool in allowed_pools for n in fits):
        reasons = "; ".join(f"{n.name}: {why_not(pod, n)}" for n in nodes if n.pool in allowed_pools)
        errors.append(f"{pod.name} fits none of its nodes ({reasons})")
    return errors


def gke_nodes(node_pools: Iterable[Mapping[str, Any]]) -> list[Node]:
    """Nodes of recorded GKE node pools, with the labels and taints GKE adds on its own."""
    nodes: list[Node] = []
    for pool in node_pools:
        config = pool["nodeConfig"]
        name = pool["name"]
        labels = {**config.get("labels", {}), "cloud.google.com/gke-nodepool": name}
        taints = [
            {"key": t["key"], "value": t.get("value", ""), "effect": GKE_EFFECTS[t["effect"]]}
            for t in config.get("taints", [])
        ]
        gpus = 0
        for accelerator in config.get("guestAccelerators", []):
            gpus += int(accelerator["count"])
            labels["cloud.google.com/gke-accelerator"] = accelerator["type"]
            labels["cloud.google.com/gke-accelerator-count"] = str(accelerator["count"])
        if gpus:
            labels["cloud.google.com/gke-gpu"] = "true"
            taints.append({"key": GPU, "value": "present", "effect": "NoSchedule"})
        if config.get("spot"):
            labels["cloud.google.com/gke-spot"] = "true"
        fleet_pool = labels.get(POOL_LABEL, name)  # a generation's node pool belongs to its fleet pool
        for index in range(2):
            host = f"gke-{name}-{index}"
            nodes.append(Node(host, fleet_pool, {**labels, "kubernetes.io/hostname": host}, list(taints), gpus))
    return nodes
