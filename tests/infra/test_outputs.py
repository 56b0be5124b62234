"""Stack outputs: where the router is, which cluster, and per pool its GPU, nodes, Service and models."""

from __future__ import annotations

import pytest

from config.k8s_names import ollama_service
from config.node_generation import gke_node_pool_name
from config.stack import StackConfig
from infra.offline.mocks import MOCK_NODE_PORT, Run


@pytest.mark.parametrize("name", ["dev", "home"])
def test_outputs_describe_every_pool(name: str, dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]) -> None:
    stack, run = dev if name == "dev" else home
    assert run.outputs["clusterName"] == stack.cluster.name
    assert run.outputs["namespace"] == stack.cluster.namespace
    pools = run.outputs["pools"]
    assert list(pools) == [pool.name for pool in stack.pools]
    for pool in stack.pools:
        entry = pools[pool.name]
        assert entry["service"] == ollama_service(pool.name)
        assert entry["models"] == pool.ollama.models
        assert entry["gpu"] == pool.gpu, "a CPU pool's gpu is null, not a sentence"
        assert entry["nodePool"] == (gke_node_pool_name(pool) if stack.is_gke else pool.node_selector)


def test_a_node_port_router_exports_its_port_and_no_url_it_cannot_know(home: tuple[StackConfig, Run]) -> None:
    _, run = home
    assert run.outputs["routerNodePort"] == MOCK_NODE_PORT
    assert "routerUrl" not in run.outputs, "the nodes' addresses are not the stack's to state"
    assert "routerApiKey" in run.secret_outputs
