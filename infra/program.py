"""The composition root: validate the stack once, then wire the components together. No logic lives here.

Order of dependence: Cluster → FleetNodePool per pool → DriverInstaller → OllamaBackend per pool, and
ModelMapConfigMap → Router. External pools (servers outside the cluster) get none of the first four: only their
place in the model map and the router's Secret and egress for them. Kubernetes components receive the
cluster's provider; ``depends_on`` on components (driver before Ollama) expresses ordering instead of
anything time-based.
"""

from __future__ import annotations

import pulumi

from config.derive import derive_model_map
from config.stack import ExistingClusterSpec, StackConfig
from infra.drivers.check import CHECK_IMAGE
from infra.drivers.installer import DriverInstaller, DriverInstallerArgs, DriverPool
from infra.gcp.cluster import Cluster, ClusterArgs
from infra.gcp.gke_versions import manifest_minor
from infra.gcp.node_pool import FleetNodePool, FleetNodePoolArgs
from infra.k8s.accelerator import is_nvidia
from infra.k8s.images import mirrored_pool, through_mirror
from infra.k8s.placement import GKE_NODEPOOL_LABEL
from infra.stack_config import load_stack_config
from infra.workloads.model_map_config_map import ModelMapConfigMap, ModelMapConfigMapArgs
from infra.workloads.ollama_backend import OllamaBackend, OllamaBackendArgs
from infra.workloads.router import Router, RouterArgs
from infra.workloads.router_pod import allowed_hosts
from infra.workloads.router_scaling import scaling_pools

RouterNodes = tuple[dict[str, str], list[dict[str, str]]]


def _router_nodes(cluster: Cluster, stack: StackConfig, pools: dict[str, FleetNodePool]) -> RouterNodes:
    """GKE: the system node pool. Existing: the user's system nodes, and never a pool's nodes."""
    if cluster.system_node_pool is not None:
        return {GKE_NODEPOOL_LABEL: cluster.system_node_pool}, []
    spec = stack.cluster
    selector = dict(spec.system_node_selector) if isinstance(spec, ExistingClusterSpec) else {}
    return selector, [pool.placement.node_selector for pool in pools.values()]


def _drivers(
    stack: StackConfig,
    pools: dict[str, FleetNodePool],
    check_image: str,
    opts: pulumi.ResourceOptions,
) -> DriverInstaller | None:
    gpu_pools = [DriverPool(pool, pools[pool.name].placement) for pool in stack.cluster_pools if is_nvidia(pool)]
    if not gpu_pools:
        return None
    return DriverInstaller(
        "drivers",
        DriverInstallerArgs(stack.cluster.namespace, gpu_pools, install=stack.is_gke, check_image=check_image),
        opts,
    )


def build() -> None:
    """Declare the whole fleet for the current stack."""
    stack = load_stack_config()
    cluster = Cluster("cluster", ClusterArgs(stack.cluster, stack.pools, stack.project, stack.region))
    k8s = pulumi.ResourceOptions(providers=[cluster.provider])
    pools = {
        pool.name: FleetNodePool(f"pool-{pool.name}", FleetNodePoolArgs(pool, cluster.gke))
        for pool in stack.cluster_pools
    }
    mirror, registry = (cluster.gke.docker_hub, list(cluster.gke.registry)) if cluster.gke else (None, [])
    check_image = through_mirror(CHECK_IMAGE, mirror)
    after_pools = pulumi.ResourceOptions(depends_on=[*pools.values(), *registry])
    drivers = _drivers(stack, pools, check_image, pulumi.ResourceOptions.merge(k8s, after_pools))
    backends = {
        pool.name: OllamaBackend(
            f"ollama-{pool.name}",
            OllamaBackendArgs(mirrored_pool(pool, mirror), pools[pool.name].placement, cluster.namespace, check_image),
            pulumi.ResourceOptions.merge(
                k8s,
                pulumi.ResourceOptions(depends_on=[pools[pool.name], *registry, *([drivers] if drivers else [])]),
            ),
        )
        for pool in stack.cluster_pools
    }
    model_map = ModelMapConfigMap("model-map", ModelMapConfigMapArgs(derive_model_map(stack), cluster.namespace), k8s)
    node_selector, avoid = _router_nodes(cluster, stack, pools)
    router = Router(
        "router",
        RouterArgs(
            router=stack.router,
            namespace=cluster.namespace,
            config_map=model_map.config_map_name,
            model_map_version=model_map.version,
            node_selector=node_selector,
            kubernetes_version=manifest_minor(stack),
            site=cluster.site,
            avoid=avoid,
            apis=cluster.gke.apis if cluster.gke else [],
            allowed_hosts=allowed_hosts(stack.router, stack.cluster.namespace),
            external_pools=stack.external_pools,
            scaling=scaling_pools(stack),
            api_server=cluster.gke.cluster.endpoint if cluster.gke else None,
        ),
        k8s,
    )
    _export(stack, cluster, pools, backends, router)


def _export(
    stack: StackConfig,
    cluster: Cluster,
    pools: dict[str, FleetNodePool],
    backends: dict[str, OllamaBackend],
    router: Router,
) -> None:
    pulumi.export("clusterName", cluster.cluster_name)
    pulumi.export("namespace", cluster.namespace)
    pulumi.export("routerUrl", router.url)
    pulumi.export("routerNodePort", router.node_port)
    if router.address is not None:
        pulumi.export("routerAddress", router.address)
    pulumi.export(
        "pools",
        {
            pool.name: {
                "gpu": pool.gpu,
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
