"""The composition root: validate the stack once, then wire the components together. No logic lives here.

Order of dependence: Cluster → GpuNodePool per pool → DriverInstaller → OllamaBackend per pool, and
ModelMap → Router. External pools (servers outside the cluster) get none of the first four: only their
place in the model map and the router's Secret and egress for them. Kubernetes components receive the
cluster's provider; ``depends_on`` on components (driver before Ollama) expresses ordering instead of
anything time-based.
"""

from __future__ import annotations

import pulumi

from config.stack import ExistingClusterSpec, StackConfig
from infra.accelerator import is_nvidia
from infra.cluster import Cluster, ClusterArgs
from infra.driver_installer import DriverInstaller, DriverInstallerArgs, DriverPool
from infra.gpu_node_pool import GpuNodePool, GpuNodePoolArgs
from infra.images import mirrored_pool
from infra.model_map import ModelMap, ModelMapArgs
from infra.ollama_backend import OllamaBackend, OllamaBackendArgs
from infra.placement import GKE_NODEPOOL_LABEL
from infra.router import Router, RouterArgs
from infra.stack_config import load_stack_config

RouterNodes = tuple[dict[str, str], list[dict[str, str]]]


def _router_nodes(cluster: Cluster, stack: StackConfig, pools: dict[str, GpuNodePool]) -> RouterNodes:
    """GKE: the system node pool. Existing: the user's system nodes, and never a pool's nodes."""
    if cluster.system_node_pool is not None:
        return {GKE_NODEPOOL_LABEL: cluster.system_node_pool}, []
    spec = stack.cluster
    selector = dict(spec.system_node_selector) if isinstance(spec, ExistingClusterSpec) else {}
    return selector, [pool.placement.node_selector for pool in pools.values()]


def _drivers(stack: StackConfig, pools: dict[str, GpuNodePool], opts: pulumi.ResourceOptions) -> DriverInstaller | None:
    gpu_pools = [DriverPool(pool, pools[pool.name].placement) for pool in stack.cluster_pools if is_nvidia(pool)]
    if not gpu_pools:
        return None
    return DriverInstaller(
        "drivers",
        DriverInstallerArgs(stack.cluster.namespace, gpu_pools, install=stack.is_gke),
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(pools.values()))),
    )


def build() -> None:
    """Declare the whole fleet for the current stack."""
    stack = load_stack_config()
    cluster = Cluster("cluster", ClusterArgs(stack))
    k8s = pulumi.ResourceOptions(providers=[cluster.provider])
    pools = {
        pool.name: GpuNodePool(f"pool-{pool.name}", GpuNodePoolArgs(pool, cluster.gke)) for pool in stack.cluster_pools
    }
    drivers = _drivers(stack, pools, k8s)
    mirror, registry = (cluster.gke.docker_hub, list(cluster.gke.registry)) if cluster.gke else (None, [])
    backends = {
        pool.name: OllamaBackend(
            f"ollama-{pool.name}",
            OllamaBackendArgs(mirrored_pool(pool, mirror), pools[pool.name].placement, cluster.namespace),
            pulumi.ResourceOptions.merge(
                k8s,
                pulumi.ResourceOptions(depends_on=[pools[pool.name], *registry, *([drivers] if drivers else [])]),
            ),
        )
        for pool in stack.cluster_pools
    }
    model_map = ModelMap("model-map", ModelMapArgs(stack, cluster.namespace), k8s)
    node_selector, avoid = _router_nodes(cluster, stack, pools)
    router = Router(
        "router",
        RouterArgs(
            stack=stack,
            namespace=cluster.namespace,
            config_map=model_map.config_map_name,
            model_map_version=model_map.version,
            node_selector=node_selector,
            avoid=avoid,
            apis=cluster.gke.apis if cluster.gke else [],
        ),
        k8s,
    )
    _export(stack, cluster, pools, backends, router)


def _export(
    stack: StackConfig,
    cluster: Cluster,
    pools: dict[str, GpuNodePool],
    backends: dict[str, OllamaBackend],
    router: Router,
) -> None:
    pulumi.export("clusterName", cluster.cluster_name)
    pulumi.export("namespace", cluster.namespace)
    pulumi.export("routerUrl", router.url)
    if router.address is not None:
        pulumi.export("routerAddress", router.address)
    pulumi.export(
        "pools",
        {
            pool.name: {
                "gpu": pool.gpu or "none (CPU only)",
                "nodePool": pools[pool.name].node_pool_name or pools[pool.name].placement.node_selector,
                "service": backends[pool.name].service_name,
                "models": list(pool.ollama.models),
            }
            for pool in stack.cluster_pools
        }
        | _external_outputs(stack),
    )
    if router.api_key is not None:
        pulumi.export("routerApiKey", pulumi.Output.secret(router.api_key))


def _external_outputs(stack: StackConfig) -> dict[str, dict[str, object]]:
    """The external pools as the ``pools`` output shows them: their URL and models."""
    return {
        pool.name: {"external": pool.external.url, "models": list(pool.models)}
        for pool in stack.external_pools
        if pool.external is not None
    }
