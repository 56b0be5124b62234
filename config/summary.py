"""The one-screen summary ``make check-config`` prints for a valid stack."""

from __future__ import annotations

from config.amd_data import amd_info
from config.derive import derive_model_map
from config.gpu_catalog import gpu_info
from config.memory import effective_memory, memory_plan
from config.node_generation import gke_node_pool_name
from config.stack import GkeClusterSpec, PoolSpec, StackConfig


def _gpu_text(pool: PoolSpec) -> str:
    if pool.gpu is None:
        return "CPU only"
    amd, info = amd_info(pool.gpu), gpu_info(pool.gpu)
    name = amd.name if amd else info.name if info else pool.gpu
    return f"{pool.gpus_per_node} × {name}"


def _placement(stack: StackConfig, pool: PoolSpec) -> str:
    if stack.is_gke:
        machine = pool.effective_machine_type
        spot = ", spot" if pool.spot else ""
        return (
            f"node pool {gke_node_pool_name(pool)}: {machine} in {','.join(pool.zones)} "
            f"({pool.nodes.min}-{pool.nodes.max} nodes{spot})"
        )
    return "nodes " + ",".join(f"{k}={v}" for k, v in pool.node_selector.items())


def _cluster_line(stack: StackConfig) -> str:
    cluster = stack.cluster
    if isinstance(cluster, GkeClusterSpec):
        return (
            f"GKE cluster {cluster.name} in {cluster.location} (project {stack.project}), "
            f"Kubernetes {cluster.kubernetes_version or f'of the {cluster.release_channel} channel (its default)'}, "
            f"namespace {cluster.namespace}"
        )
    target = cluster.context or cluster.kubeconfig or "default kubeconfig"
    return (
        f"existing cluster {cluster.name} ({target}), Kubernetes {cluster.kubernetes_version}, "
        f"namespace {cluster.namespace}"
    )


def summarize(stack: StackConfig, title: str) -> str:
    """Pools, GPUs, drivers, images, models and routes of a valid stack, in about one screen."""
    lines = [f"{title}: valid", _cluster_line(stack), "", "pools:"]
    for pool in stack.pools:
        if pool.external is not None:
            lines.extend(_external_lines(pool))
            continue
        driver = f"driver {pool.driver}" if pool.driver else "host ROCm" if amd_info(pool.gpu) else "no driver"
        lines.append(f"  {pool.name:<8} {_gpu_text(pool)}, {driver}, {_placement(stack, pool)}")
        lines.append(f"           {pool.ollama.image} × {pool.ollama.replicas}: {', '.join(pool.ollama.models)}")
        plan = memory_plan(pool)
        lines.append(
            f"           memory {effective_memory(pool)} per replica ({plan.runners} runner(s), "
            f"{plan.cache_mib} MiB prompt cache each; floor {plan.floor})"
        )
        if (sleep := pool.ollama.scale_to_zero) is not None:
            lines.append(
                f"           scales to zero after {sleep.idle_after} idle; requests wait up to {sleep.wake_timeout}"
            )
    model_map = derive_model_map(stack)
    lines += ["", "routes:"]
    for route in model_map.routes:
        targets = ", ".join(f"{t.name}(p{t.priority},w{t.weight:g})" for t in route.backends)
        lines.append(f"  {route.model:<24} → {targets}")
    for alias, target in model_map.aliases.items():
        lines.append(f"  {alias:<24} = {target}")
    if model_map.default_backend:
        lines.append(f"  anything else            → {model_map.default_backend}")
    lines += ["", _router_line(stack)]
    return "\n".join(lines)


def _external_lines(pool: PoolSpec) -> list[str]:
    external = pool.external
    assert external is not None, "only for external pools"
    trust = "no TLS" if not external.https else "private CA" if external.ca_bundle else "system CAs"
    token = "bearer token" if external.token is not None else "no token"
    return [
        f"  {pool.name:<8} external {external.url} ({trust}, {token})",
        f"           {', '.join(external.models)}",
    ]


def _router_line(stack: StackConfig) -> str:
    router = stack.router
    service = router.service
    line = f"router: {router.replicas} replicas, {service.type} on port {service.port}"
    if router.tls is not None:
        line += f", HTTPS for {', '.join(router.tls.domains) or router.tls.secret_name}"
    elif router.allow_insecure_http:
        line += ", plain HTTP by choice (allowInsecureHttp)"
    return line
