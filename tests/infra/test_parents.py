"""The component tree: every resource hangs under the component that owns it (read from recorded URNs)."""

from __future__ import annotations

import pytest

from config.node_generation import gke_node_pool_name
from config.stack import StackConfig
from infra.offline.mocks import Run

COMPONENT = "ollama-fleet:infra:"
OWNER = {
    "gcp:container/cluster:Cluster": "Cluster",
    "gcp:serviceaccount/account:Account": "Cluster",
    "gcp:projects/service:Service": "Cluster",
    "pulumi:providers:kubernetes": "Cluster",
    "kubernetes:core/v1:Namespace": {"Cluster", "DriverInstaller"},
    "kubernetes:apps/v1:StatefulSet": "OllamaBackend",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy": {
        "Cluster",
        "OllamaBackend",
        "Router",
        "RouterScaling",
        "DriverInstaller",
        "DevicePlugin",
    },
    "kubernetes:coordination.k8s.io/v1:Lease": "RouterScaling",
    "kubernetes:rbac.authorization.k8s.io/v1:Role": "RouterScaling",
    "kubernetes:networking.k8s.io/v1:Ingress": "Router",
    "kubernetes:networking.gke.io/v1:ManagedCertificate": "Router",
    "kubernetes:networking.gke.io/v1beta1:FrontendConfig": "Router",
    "kubernetes:cloud.google.com/v1:BackendConfig": "Router",
    "gcp:compute/globalAddress:GlobalAddress": "Router",
    "gcp:compute/sSLPolicy:SSLPolicy": "Router",
    "kubernetes:apps/v1:DaemonSet": {"DriverInstaller", "DevicePlugin"},
    "kubernetes:core/v1:ConfigMap": "ModelMap",
    "kubernetes:apps/v1:Deployment": "Router",
    "kubernetes:core/v1:Secret": "Router",
    "docker-build:index:Image": "Router",
    "gcp:artifactregistry/repository:Repository": {"Router", "Cluster"},
    "random:index/randomPassword:RandomPassword": "Router",
}


def _type_and_name(urn: str) -> tuple[str, str]:
    parts = urn.split("::")
    return parts[2].split("$")[-1], parts[3]


@pytest.mark.parametrize("name", ["dev", "home", "hybrid"])
def test_every_resource_has_a_component_parent(
    name: str, dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run], hybrid: tuple[StackConfig, Run]
) -> None:
    _, run = {"dev": dev, "home": home, "hybrid": hybrid}[name]
    components = {r.urn for r in run.resources if r.type.startswith(COMPONENT)}
    assert components, "no components were registered"
    for resource in run.resources:
        parent_type, _ = _type_and_name(resource.parent)
        if resource.type.startswith(COMPONENT):
            assert parent_type == "pulumi:pulumi:Stack" or resource.parent in components, resource.urn
            continue
        assert resource.parent in components, f"{resource.type} {resource.name} is parented by {resource.parent}"
        owner = OWNER.get(resource.type)
        if owner is not None:
            allowed = {owner} if isinstance(owner, str) else owner
            assert parent_type.removeprefix(COMPONENT) in allowed, (resource.type, resource.name, parent_type)


def test_node_pools_belong_to_their_pool_component(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    pool_of = {gke_node_pool_name(p): p.name for p in stack.pools}
    for resource in run.of_type("gcp:container/nodePool:NodePool"):
        parent_type, parent_name = _type_and_name(resource.parent)
        node_pool = resource.inputs["name"]
        if node_pool == "system":
            assert parent_type == f"{COMPONENT}Cluster"
        else:
            assert (parent_type, parent_name) == (f"{COMPONENT}GpuNodePool", f"pool-{pool_of[node_pool]}")
    assert {r.name for r in run.of_type(f"{COMPONENT}GpuNodePool")} == {f"pool-{p.name}" for p in stack.pools}


def test_the_device_plugin_is_part_of_the_existing_cluster(home: tuple[StackConfig, Run]) -> None:
    _, run = home
    [plugin] = run.of_type(f"{COMPONENT}DevicePlugin")
    assert _type_and_name(plugin.parent)[0] == f"{COMPONENT}Cluster"
