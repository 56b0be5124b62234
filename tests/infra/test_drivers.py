"""Driver DaemonSets as GKE will admit and schedule them: critical priority, and the quota GKE requires for it."""

from __future__ import annotations

from config.k8s_names import driver_namespace
from config.stack import StackConfig
from infra.offline.mocks import Run
from tests.infra.fleet import inputs, one, pod_spec

DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
QUOTA = "kubernetes:core/v1:ResourceQuota"


def test_every_driver_pod_is_node_critical(dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]) -> None:
    for stack, run in (dev, home):
        for pool in (p for p in stack.pools if p.gpu is not None):
            spec = pod_spec(one(run, DAEMON_SET, name=f"nvidia-driver-{pool.name}"))
            assert spec["priorityClassName"] == "system-node-critical", pool.name


def test_gke_admits_the_critical_driver_pods_through_a_scoped_quota(dev: tuple[StackConfig, Run]) -> None:
    """GKE limits system-node-critical to kube-system unless a namespace has a quota scoped to the class."""
    stack, run = dev
    quota = one(run, QUOTA, name="critical-pods")
    assert quota["metadata"]["namespace"] == driver_namespace(stack.cluster.namespace)
    (scope,) = quota["spec"]["scopeSelector"]["matchExpressions"]
    assert scope == {"scopeName": "PriorityClass", "operator": "In", "values": ["system-node-critical"]}
    gpu_nodes = sum(pool.nodes.max for pool in stack.pools if pool.gpu is not None)
    assert int(quota["spec"]["hard"]["pods"]) >= 2 * gpu_nodes, "old and new node pool side by side"


def test_existing_clusters_get_no_quota(home: tuple[StackConfig, Run]) -> None:
    _, run = home
    assert [inputs(r) for r in run.of_type(QUOTA)] == []
