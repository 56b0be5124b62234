"""Scale to zero in the plan: least privilege for the router, Leases made by the stack, no fight over replicas."""

from __future__ import annotations

from typing import Any

from config.stack import StackConfig
from infra.offline.mocks import MOCK_ENDPOINT, Run
from infra.offline.summary import summary_markdown
from tests.infra.fleet import file_value, inputs, one, pod_spec, run_stack

ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
LEASE = "kubernetes:coordination.k8s.io/v1:Lease"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFULSET = "kubernetes:apps/v1:StatefulSet"
ROUTER = "ollama-fleet-router"


def _rules(run: Run) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = one(run, ROLE)["rules"]
    return rules


def test_the_routers_role_names_exactly_the_sleeping_pools_objects(dev: tuple[StackConfig, Run]) -> None:
    _, run = dev
    granted = {
        (group, resource, verb, tuple(rule["resourceNames"]))
        for rule in _rules(run)
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert granted == {
        ("apps", "statefulsets/scale", "get", ("ollama-a100",)),
        ("apps", "statefulsets/scale", "patch", ("ollama-a100",)),
        ("apps", "statefulsets/scale", "update", ("ollama-a100",)),
        ("apps", "statefulsets", "get", ("ollama-a100",)),
        ("coordination.k8s.io", "leases", "get", ("ollama-fleet-activity-a100",)),
        ("coordination.k8s.io", "leases", "update", ("ollama-fleet-activity-a100",)),
    }
    assert not run.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
    binding = one(run, BINDING)
    assert binding["roleRef"]["name"] == one(run, ROLE)["metadata"]["name"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": ROUTER, "namespace": "ollama-fleet"}]


def test_the_stack_creates_the_leases_and_then_leaves_them_to_the_routers(dev: tuple[StackConfig, Run]) -> None:
    _, run = dev
    (lease,) = run.of_type(LEASE)
    assert inputs(lease)["metadata"]["name"] == "ollama-fleet-activity-a100"
    assert inputs(lease)["spec"] == {"leaseDurationSeconds": 1800}
    assert lease.ignore_changes == ["spec"]


def test_the_router_gets_a_token_only_where_a_pool_scales_to_zero(
    dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]
) -> None:
    scaling = pod_spec(one(dev[1], DEPLOYMENT, name=ROUTER))
    assert scaling["serviceAccountName"] == ROUTER
    assert scaling["automountServiceAccountToken"] is True
    plain = pod_spec(one(home[1], DEPLOYMENT, name=ROUTER))
    assert plain["automountServiceAccountToken"] is False
    assert "serviceAccountName" not in plain
    for kind in (ROLE, BINDING, LEASE, "kubernetes:core/v1:ServiceAccount"):
        assert not home[1].of_type(kind), kind


def test_the_router_may_reach_the_api_server_only_when_it_scales_pools(
    dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]
) -> None:
    policy = one(dev[1], POLICY, name=f"{ROUTER}-kube-api-egress")
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == ROUTER
    (rule,) = policy["spec"]["egress"]
    assert rule["to"] == [{"ipBlock": {"cidr": f"{MOCK_ENDPOINT}/32"}}]
    assert rule["ports"] == [{"port": 443, "protocol": "TCP"}]
    names = {inputs(r)["metadata"]["name"] for r in home[1].of_type(POLICY)}
    assert f"{ROUTER}-kube-api-egress" not in names


def test_an_existing_cluster_that_scales_lets_the_router_reach_private_api_ports() -> None:
    pools = file_value("home", "pools")
    pools[0]["ollama"]["scaleToZero"] = {"idleAfter": "10m", "wakeTimeout": "5m"}
    _, run = run_stack("home", pools=pools)
    (rule,) = one(run, POLICY, name=f"{ROUTER}-kube-api-egress")["spec"]["egress"]
    assert {peer["ipBlock"]["cidr"] for peer in rule["to"]} == {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}
    assert {port["port"] for port in rule["ports"]} == {443, 6443}
    (lease,) = run.of_type(LEASE)
    assert inputs(lease)["spec"] == {"leaseDurationSeconds": 600}


def test_pulumi_up_leaves_a_sleeping_pools_replicas_to_the_router(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    ignored = {r.name: r.ignore_changes for r in run.of_type(STATEFULSET)}
    assert ignored == {
        "ollama-t4-statefulset": [],
        "ollama-l4-statefulset": [],
        "ollama-a100-statefulset": ["spec.replicas"],
        "ollama-cpu-statefulset": [],
    }
    summary = summary_markdown(stack, run, "dev")
    assert "## Scale to zero" in summary
    assert "Pulumi ignores `spec.replicas` of `ollama-a100-statefulset`" in summary
