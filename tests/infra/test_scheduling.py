"""Where would Kubernetes put every workload? Asked of an independent scheduler model, not of the code.

Nodes come from the recorded GKE node pools plus GKE's own labels and taints (dev), or from the users'
labels and taints as the stack file states them (home). Each Ollama StatefulSet and driver DaemonSet must
fit its own pool's nodes and no other; the router only the system nodes. The mutation tests prove the
check has teeth: a dropped or swapped toleration or selector is caught.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from config.stack import ExistingClusterSpec, StackConfig
from infra.offline.mocks import Run
from tests.infra.fleet import POOL_LABEL_KEY, inputs, pod_spec
from tests.infra.scheduler import (
    Node,
    Pod,
    admit_on_gke,
    affinity_allows,
    feasible,
    gke_nodes,
    placement_errors,
    tolerates,
    why_not,
)

Workload = tuple[Pod, set[str]]
WORKLOADS = ("kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet", "kubernetes:apps/v1:Deployment")


def dev_nodes(run: Run) -> list[Node]:
    return gke_nodes(inputs(r) for r in run.of_type("gcp:container/nodePool:NodePool"))


def home_nodes(stack: StackConfig) -> list[Node]:
    assert isinstance(stack.cluster, ExistingClusterSpec)
    nodes = [Node("home-system-0", "system", {**stack.cluster.system_node_selector})]
    for pool in stack.pools:
        taints = [{"key": pool.taint.key, "value": pool.taint.value, "effect": pool.taint.effect}] if pool.taint else []
        gpus = pool.gpus_per_node if pool.gpu else 0
        nodes += [
            Node(f"home-{pool.name}-{i}", pool.name, dict(pool.node_selector), list(taints), gpus) for i in range(2)
        ]
    for node in nodes:
        node.labels["kubernetes.io/hostname"] = node.name
    return nodes


def workloads(stack: StackConfig, run: Run) -> list[Workload]:
    """Every pod template with the pools it may use: its own pool, the GPU pools, or the system nodes."""
    gpu_pools = {p.name for p in stack.pools if p.gpu}
    found: list[Workload] = []
    for token in WORKLOADS:
        for resource in run.of_type(token):
            data = inputs(resource)
            metadata = data["metadata"]
            pod = Pod(f"{token.rsplit(':', 1)[1]}/{metadata['name']}", pod_spec(data))
            pool = metadata.get("labels", {}).get(POOL_LABEL_KEY)
            if pool is not None:
                found.append((pod, {pool}))
            elif metadata["name"] == "nvidia-device-plugin":
                found.append((pod, gpu_pools))
            else:
                found.append((pod, {"system"}))
    return found


def test_dev_every_workload_lands_on_its_own_pool_only(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    nodes = dev_nodes(run)
    found = workloads(stack, run)
    kinds = sorted(pod.name.split("/")[0] for pod, _ in found)
    assert kinds.count("StatefulSet") == len(stack.pools) and kinds.count("Deployment") == 1
    assert kinds.count("DaemonSet") == len([p for p in stack.pools if p.gpu])
    errors = [e for pod, pools in found for e in placement_errors(admit_on_gke(pod), nodes, pools)]
    assert errors == []


def test_home_every_workload_lands_on_its_own_pool_only(home: tuple[StackConfig, Run]) -> None:
    stack, run = home
    nodes = home_nodes(stack)
    found = workloads(stack, run)
    kinds = sorted(pod.name.split("/")[0] for pod, _ in found)
    assert kinds.count("StatefulSet") == len(stack.pools) and kinds.count("Deployment") == 1
    assert kinds.count("DaemonSet") == len([p for p in stack.pools if p.gpu]) + 1
    errors = [e for pod, pools in found for e in placement_errors(pod, nodes, pools)]
    assert errors == []


def test_the_m40_taint_is_what_keeps_other_pods_away(home: tuple[StackConfig, Run]) -> None:
    stack, run = home
    nodes = [n for n in home_nodes(stack) if n.pool == "m40"]
    router = next(pod for pod, pools in workloads(stack, run) if pools == {"system"})
    router.spec.pop("affinity", None)
    assert [why_not(router, n) for n in nodes] == ["untolerated taint fleet/gpu=m40:NoSchedule"] * 2


# --- mutations: the check must fail when the program's placement is broken ---------------------------


def _pod(stack: StackConfig, run: Run, kind: str, pool: str) -> Pod:
    return next(p for p, pools in workloads(stack, run) if p.name.startswith(kind) and pools == {pool})


def _drop_pool_toleration(spec: dict[str, Any], _: dict[str, Any]) -> None:
    spec["tolerations"] = [t for t in spec["tolerations"] if t.get("key") == "nvidia.com/gpu"]


def _drop_selector(spec: dict[str, Any], _: dict[str, Any]) -> None:
    spec.pop("nodeSelector")


def _swap_tolerations(spec: dict[str, Any], other: dict[str, Any]) -> None:
    spec["tolerations"] = copy.deepcopy(other["tolerations"])


def _swap_selectors(spec: dict[str, Any], other: dict[str, Any]) -> None:
    spec["nodeSelector"] = copy.deepcopy(other["nodeSelector"])


def _swap_both(spec: dict[str, Any], other: dict[str, Any]) -> None:
    _swap_tolerations(spec, other)
    _swap_selectors(spec, other)


Mutation = Callable[[dict[str, Any], dict[str, Any]], None]


@pytest.mark.parametrize(
    ("kind", "mutation", "symptom"),
    [
        ("StatefulSet", _drop_pool_toleration, "fits none"),
        ("DaemonSet", _drop_pool_toleration, "fits none"),
        ("DaemonSet", _drop_selector, "may run on gke-system"),
        ("StatefulSet", _swap_tolerations, "fits none"),
        ("StatefulSet", _swap_selectors, "fits none"),
        ("StatefulSet", _swap_both, "may run on gke-l4"),
        ("DaemonSet", _swap_both, "may run on gke-l4"),
    ],
)
def test_dev_broken_placement_is_caught(
    dev: tuple[StackConfig, Run], kind: str, mutation: Mutation, symptom: str
) -> None:
    stack, run = dev
    nodes = dev_nodes(run)
    t4, l4 = _pod(stack, run, kind, "t4"), _pod(stack, run, kind, "l4")
    assert placement_errors(admit_on_gke(t4), nodes, {"t4"}) == []
    mutation(t4.spec, l4.spec)
    errors = placement_errors(admit_on_gke(t4), nodes, {"t4"})
    assert any(symptom in error for error in errors), errors


@pytest.mark.parametrize(
    ("kind", "pool", "mutation", "symptom"),
    [
        ("StatefulSet", "l4", _drop_selector, "may run on home-k80"),
        ("DaemonSet", "l4", _drop_selector, "may run on home-system"),
        ("StatefulSet", "m40", _drop_pool_toleration, "fits none"),
        ("DaemonSet", "m40", _drop_pool_toleration, "fits none"),
        ("StatefulSet", "l4", _swap_selectors, "may run on home-k80"),
    ],
)
def test_home_broken_placement_is_caught(
    home: tuple[StackConfig, Run], kind: str, pool: str, mutation: Mutation, symptom: str
) -> None:
    stack, run = home
    nodes = home_nodes(stack)
    pod, other = _pod(stack, run, kind, pool), _pod(stack, run, kind, "k80")
    assert placement_errors(pod, nodes, {pool}) == []
    mutation(pod.spec, other.spec)
    errors = placement_errors(pod, nodes, {pool})
    assert any(symptom in error for error in errors), errors


def test_a_router_without_its_node_rules_would_land_on_gpu_nodes(home: tuple[StackConfig, Run]) -> None:
    stack, run = home
    router = _pod(stack, run, "Deployment", "system")
    router.spec.pop("affinity")
    errors = placement_errors(router, home_nodes(stack), {"system"})
    assert any("home-k80-0" in e for e in errors) and any("home-l4-0" in e for e in errors)


def test_reordering_tolerations_changes_nothing(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    pod = _pod(stack, run, "StatefulSet", "l4")
    pod.spec["tolerations"].reverse()
    assert placement_errors(admit_on_gke(pod), dev_nodes(run), {"l4"}) == []


# --- the model itself follows Kubernetes' rules --------------------------------------------------------


def test_toleration_matching_rules() -> None:
    taint = {"key": "k", "value": "v", "effect": "NoSchedule"}
    assert tolerates({"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}, taint)
    assert tolerates({"key": "k", "value": "v"}, taint)  # default operator Equal, empty effect = all
    assert tolerates({"key": "k", "operator": "Exists"}, taint)
    assert tolerates({"operator": "Exists"}, taint)  # empty key with Exists tolerates everything
    assert not tolerates({"key": "k", "operator": "Equal", "value": "w"}, taint)
    assert not tolerates({"key": "k", "operator": "Exists", "effect": "NoExecute"}, taint)
    assert not tolerates({"key": "other", "operator": "Exists"}, taint)


def test_affinity_operators() -> None:
    def spec(*expressions: dict[str, Any]) -> dict[str, Any]:
        term = {"matchExpressions": list(expressions)}
        return {
            "affinity": {
                "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}
            }
        }

    labels = {"a": "1", "n": "5"}
    assert affinity_allows(spec({"key": "a", "operator": "In", "values": ["1", "2"]}), labels)
    assert not affinity_allows(spec({"key": "a", "operator": "NotIn", "values": ["1"]}), labels)
    assert affinity_allows(spec({"key": "missing", "operator": "NotIn", "values": ["1"]}), labels)
    assert affinity_allows(spec({"key": "a", "operator": "Exists"}), labels)
    assert affinity_allows(spec({"key": "b", "operator": "DoesNotExist"}), labels)
    assert affinity_allows(spec({"key": "n", "operator": "Gt", "values": ["4"]}), labels)
    assert not affinity_allows(spec({"key": "n", "operator": "Lt", "values": ["4"]}), labels)
    assert not affinity_allows(spec(), labels), "an empty node selector term matches no node"


def test_gpu_capacity_and_extended_resource_toleration() -> None:
    gpu_node = Node("g", "g", {}, [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}], gpus=1)
    wants_two = Pod("p", {"containers": [{"resources": {"limits": {"nvidia.com/gpu": 2}}}]})
    wants_one = Pod("p", {"containers": [{"resources": {"limits": {"nvidia.com/gpu": "1"}}}]})
    assert why_not(wants_one, gpu_node) == "untolerated taint nvidia.com/gpu=present:NoSchedule"
    assert feasible(admit_on_gke(wants_one), [gpu_node]) == [gpu_node]
    assert why_not(admit_on_gke(wants_two), gpu_node) == "needs 2 nvidia.com/gpu, node has 1"
