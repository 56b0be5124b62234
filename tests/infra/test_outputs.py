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
        assert entry["gpu"] == (pool.gpu or "none (CPU only)")
        assert entry["nodePool"] == (gke_node_pool_name(pool) if stack.is_gke else pool.node_selector)


def test_node_port_router_url_names_the_port(home: tuple[StackConfig, Run]) -> None:
    _, run = home
    assert run.outputs["routerUrl"] == f"http://<node-address>:{MOCK_NODE_PORT}"
    assert "routerApiKey" in run.secret_outputs
