"""Blue/green node pools: what nodes boot with names the node pool, and every pod follows that name."""

from __future__ import annotations

from typing import Any

from config.node_generation import GENERATION_LABEL
from config.stack import StackConfig
from infra.offline.mocks import Run
from tests.infra.fleet import containers, env_of, file_value, inputs, one, pod_spec, run_stack

NODE_POOL = "gcp:container/nodePool:NodePool"


def _pools_with(name: str, **changes: Any) -> list[dict[str, Any]]:
    pools: list[dict[str, Any]] = file_value("dev", "pools")
    next(p for p in pools if p["name"] == name).update(changes)
    return pools


def _node_pool(run: Run, pool: str) -> tuple[str, dict[str, Any]]:
    """The logical name and inputs of the GKE node pool of fleet pool ``pool``."""
    (found,) = [r for r in run.of_type(NODE_POOL) if r.name == f"pool-{pool}-nodes"]
    return found.name, inputs(found)


def _placement(run: Run, pool: str) -> list[dict[str, Any]]:
    ollama = pod_spec(one(run, "kubernetes:apps/v1:StatefulSet", name=f"ollama-{pool}"))
    driver = pod_spec(one(run, "kubernetes:apps/v1:DaemonSet", name=f"nvidia-driver-{pool}"))
    return [ollama, driver]


def _assert_pods_follow(run: Run, pool: str, pin: str) -> None:
    _, node_pool = _node_pool(run, pool)
    ollama, driver = _placement(run, pool)
    for spec in (ollama, driver):
        assert spec["nodeSelector"]["cloud.google.com/gke-nodepool"] == node_pool["name"]
        assert spec["nodeSelector"][GENERATION_LABEL] == node_pool["nodeConfig"]["labels"][GENERATION_LABEL]
    assert env_of(containers(ollama)["driver-gate"])["PINNED_DRIVER"] == pin
    assert env_of(containers(driver)["driver-verify"])["PINNED_DRIVER"] == pin


def test_a_driver_change_brings_up_a_new_node_pool_that_the_pods_follow() -> None:
    _, before = run_stack("dev")
    _, after = run_stack("dev", pools=_pools_with("l4", driver="580.95.05"))
    logical_before, old = _node_pool(before, "l4")
    logical_after, new = _node_pool(after, "l4")
    assert logical_before == logical_after, "the same resource, replaced: Pulumi creates the new one first"
    assert old["name"] != new["name"] and new["name"].startswith("l4-")
    _assert_pods_follow(before, "l4", "570.124.06")
    _assert_pods_follow(after, "l4", "580.95.05")
    assert _node_pool(after, "t4")[1]["name"] == _node_pool(before, "t4")[1]["name"], "other pools stay put"


def test_a_node_image_change_is_a_new_generation_too() -> None:
    _, before = run_stack("dev")
    _, after = run_stack("dev", pools=_pools_with("l4", nodeImage="COS_CONTAINERD", driver="R570"))
    assert _node_pool(after, "l4")[1]["name"] != _node_pool(before, "l4")[1]["name"]
    _assert_pods_follow(after, "l4", "R570")


def test_scaling_bounds_change_the_node_pool_in_place() -> None:
    _, before = run_stack("dev")
    _, after = run_stack("dev", pools=_pools_with("l4", nodes={"min": 1, "max": 4}))
    assert _node_pool(after, "l4")[1]["name"] == _node_pool(before, "l4")[1]["name"]


def test_an_old_node_pool_is_drained_one_ollama_replica_at_a_time(dev: tuple[StackConfig, Run]) -> None:
    """GKE honours disruption budgets when it deletes the old generation, and each pool's budget lets only one
    replica go while another is still starting, so a multi-replica pool keeps serving while it moves."""
    stack, run = dev
    for pool in stack.cluster_pools:
        _, node_pool = _node_pool(run, pool.name)
        assert node_pool["nodeDrainConfigs"] == [{"respectPdbDuringNodePoolDeletion": True}]
        statefulset = one(run, "kubernetes:apps/v1:StatefulSet", name=f"ollama-{pool.name}")
        budget = one(run, "kubernetes:policy/v1:PodDisruptionBudget", name=f"ollama-{pool.name}")
        assert budget["metadata"]["namespace"] == statefulset["metadata"]["namespace"]
        assert budget["spec"]["selector"] == statefulset["spec"]["selector"]
        assert budget["spec"]["maxUnavailable"] == 1
        assert budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_no_budget_selects_another_pools_pods(dev: tuple[StackConfig, Run]) -> None:
    _, run = dev
    budgets = [inputs(r) for r in run.of_type("kubernetes:policy/v1:PodDisruptionBudget")]
    selectors = [b["spec"]["selector"]["matchLabels"] for b in budgets]
    pools = [labels for labels in selectors if labels.get("app.kubernetes.io/component") == "ollama"]
    assert len(pools) == len({tuple(sorted(labels.items())) for labels in pools}) == 4
