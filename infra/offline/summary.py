"""``summary.md`` of an offline plan: what a reviewer checks before ``pulumi up``, on one page."""

from __future__ import annotations

from collections import Counter

from config.derive import derive_model_map
from config.external import ExternalSpec
from config.gpu_catalog import gpu_info
from config.k8s_names import ollama_statefulset
from config.memory import effective_memory, memory_plan
from config.node_generation import gke_node_pool_name
from config.stack import GkeClusterSpec, PoolSpec, StackConfig
from infra.gcp.gke import region_of
from infra.gcp.gke_versions import manifest_minor
from infra.gcp.router_image import DOCKERFILE
from infra.k8s.images import mirror_uri, through_mirror
from infra.offline.diagram import fleet_section
from infra.offline.mocks import Run
from infra.workloads.router import max_replicas


def _gpu(pool: PoolSpec) -> str:
    if pool.gpu is None:
        return "CPU only"
    info = gpu_info(pool.gpu)
    return f"{pool.gpus_per_node} × {info.name if info else pool.gpu} (`{pool.gpu}`)"


def _nodes(stack: StackConfig, pool: PoolSpec) -> str:
    if stack.is_gke:
        spot = ", spot" if pool.spot else ""
        return (
            f"node pool `{gke_node_pool_name(pool)}`: `{pool.effective_machine_type}` in {', '.join(pool.zones)}; "
            f"{pool.nodes.min}–{pool.nodes.max} nodes{spot}"
        )
    selector = ", ".join(f"`{k}={v}`" for k, v in pool.node_selector.items())
    taint = f"; taint `{pool.taint.key}={pool.taint.value}:{pool.taint.effect}`" if pool.taint else ""
    return f"nodes {selector}{taint}"


def _driver(stack: StackConfig, pool: PoolSpec) -> str:
    if pool.driver is None:
        return "—"
    if not stack.is_gke:
        return f"{pool.driver}, verified on the host"
    if pool.node_image == "COS_CONTAINERD":
        return f"{pool.driver}, installed (COS, the newest {pool.driver} build published for the node's image)"
    return f"{pool.driver}, installed (Ubuntu, `NVIDIA_DRIVER_VERSION={pool.driver}`)"


def _cluster(stack: StackConfig) -> str:
    spec = stack.cluster
    if isinstance(spec, GkeClusterSpec):
        version = (
            f"{spec.kubernetes_version} (set; checked against GKE at preview)"
            if spec.kubernetes_version
            else f"{spec.release_channel} channel default (manifests validated for {manifest_minor(stack)}, "
            "the channel default recorded in `infra/gcp/gke_versions.py`)"
        )
        window = spec.maintenance_window
        return (
            f"GKE cluster `{spec.name}` in `{spec.location}` (project `{stack.project}`), Kubernetes "
            f"{version}, namespace `{spec.namespace}`; upgrades {','.join(window.days)} from "
            f"{window.start_utc} UTC for {window.hours} h, one surge node at a time"
        )
    target = spec.context or spec.kubeconfig
    return (
        f"existing cluster `{spec.name}` (`{target}`), Kubernetes {spec.kubernetes_version}, "
        f"namespace `{spec.namespace}`"
    )


def _ollama_image(stack: StackConfig, pool: PoolSpec) -> str:
    """The stack file's image, and on GKE the reference nodes pull it by (through the Docker Hub mirror)."""
    spec = stack.cluster
    if not isinstance(spec, GkeClusterSpec) or not stack.project:
        return f"`{pool.ollama.image}`"
    pulled = through_mirror(pool.ollama.image, mirror_uri(stack.project, region_of(spec, stack.region)))
    if pulled == pool.ollama.image:
        return f"`{pool.ollama.image}` (not on Docker Hub: pulled directly)"
    return f"`{pool.ollama.image}` pulled as `{pulled}`"


def _memory(pool: PoolSpec) -> str:
    """The replica's memory and the bounds behind it (see config/memory.py)."""
    plan = memory_plan(pool)
    source = "set" if pool.ollama.memory else "derived"
    return (
        f"{effective_memory(pool)} ({source}; floor {plan.floor}: {plan.runners} runner(s), "
        f"{plan.cache_mib} MiB prompt cache each)"
    )


def _pool_rows(stack: StackConfig) -> list[str]:
    rows = [
        "| pool | GPU | nodes | node image | driver | Ollama | memory | storage | models |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for pool in stack.pools:
        if pool.external is not None:
            models = ", ".join(f"`{m}`" for m in pool.external.models)
            rows.append(f"| {pool.name} | external: {_external(pool.external)} | — | — | — | — | — | {models} |")
            continue
        image = "—" if not stack.is_gke else f"`{pool.node_image}`"
        ollama = f"{_ollama_image(stack, pool)} × {pool.ollama.replicas}"
        storage = f"claim `{pool.ollama.existing_claim}`" if pool.ollama.existing_claim else pool.ollama.storage
        models = ", ".join(f"`{m}`" for m in pool.ollama.models)
        rows.append(
            f"| {pool.name} | {_gpu(pool)} | {_nodes(stack, pool)} | {image} | {_driver(stack, pool)} "
            f"| {ollama} | {_memory(pool)} | {storage} | {models} |"
        )
    return rows


def _external(external: ExternalSpec) -> str:
    """An external server: its URL, what verifies it, whether a token goes with each request."""
    trust = "plain HTTP" if not external.https else "TLS, private CA" if external.ca_bundle else "TLS, system CAs"
    token = "bearer token" if external.token is not None else "no token"
    return f"`{external.url}` ({trust}, {token})"


def _route_rows(stack: StackConfig) -> list[str]:
    document = derive_model_map(stack)
    rows = ["| model | backends (priority, weight) |", "|---|---|"]
    for route in document.routes:
        targets = ", ".join(f"{t.name} (p{t.priority}, w{t.weight:g})" for t in route.backends)
        rows.append(f"| `{route.model}` | {targets} |")
    rows += [f"| `{alias}` (alias) | → `{target}` |" for alias, target in document.aliases.items()]
    if document.default_backend:
        rows.append(f"| anything else | {document.default_backend} |")
    return rows


def _https(stack: StackConfig) -> str:
    tls = stack.router.tls
    if tls is None:
        if stack.router.service.public and stack.router.allow_insecure_http:
            return "none: plain HTTP on a public address, accepted by `allowInsecureHttp: true`"
        return "none"
    hosts = ", ".join(f"`{domain}`" for domain in tls.domains) or "any host"
    if tls.google_managed:
        return f"Ingress with a Google-managed certificate for {hosts} (TLS 1.2+, no plain HTTP)"
    return f"Ingress serving the Secret `{tls.secret_name}` for {hosts}"


def _router(stack: StackConfig, run: Run) -> list[str]:
    router = stack.router
    image = f"`{router.image}` (prebuilt)" if router.image else f"built from `{DOCKERFILE}`, deployed by digest"
    if router.api_keys is not None:
        access = "API keys from secret config"
    elif "routerApiKey" in run.outputs:
        access = "one generated API key (secret stack output `routerApiKey`)"
    else:
        access = "anonymous (no API keys)"
    service = router.service
    return [
        f"- image: {image}",
        f"- {router.replicas}–{max_replicas(router.replicas)} replicas (CPU autoscaled)",
        f"- Service `{service.type}` on port {service.port}" + (", internal" if service.internal else ""),
        f"- HTTPS: {_https(stack)}",
        f"- access: {access}",
        "- network: every namespace of the stack denies by default; router ← any client on its port, "
        "router → Ollama on 11434, Ollama ← router only, Ollama → internet on 443 (never the metadata server)",
        *_external_network(stack),
    ]


def _external_network(stack: StackConfig) -> list[str]:
    """The router's egress to each external pool: its address exactly, or its port on public addresses."""
    lines = []
    for pool in stack.external_pools:
        external = pool.external
        assert external is not None, "external_pools holds external pools only"
        where = f"{external.host} only" if external.address is not None else "public addresses (a DNS name)"
        lines.append(f"- router → external pool {pool.name} on {external.port}, to {where}")
    return lines


def _scale_to_zero(stack: StackConfig, run: Run) -> list[str]:
    """Which pools the router sleeps, and the fields ``pulumi up`` leaves to it (read from what was registered)."""
    pools = [pool for pool in stack.pools if pool.ollama.scale_to_zero is not None]
    if not pools:
        return []
    lines = ["## Scale to zero", ""]
    for pool in pools:
        spec = pool.ollama.scale_to_zero
        assert spec is not None
        lines.append(
            f"- {pool.name}: the router scales `{ollama_statefulset(pool.name)}` to 0 after {spec.idle_after} "
            f"without requests and back to {pool.ollama.replicas} on demand (requests wait up to {spec.wake_timeout})"
        )
    lines += [
        f"- Pulumi ignores `{', '.join(r.ignore_changes)}` of `{r.name}`" for r in run.resources if r.ignore_changes
    ]
    return [*lines, ""]


def summary_markdown(stack: StackConfig, run: Run, name: str) -> str:
    """The plan's one-page summary."""
    counts = Counter(r.type for r in run.resources)
    resources = [f"- {count} × `{token}`" for token, count in sorted(counts.items())]
    lines = [
        f"# ollama-fleet plan: stack `{name}`",
        "",
        _cluster(stack),
        "",
        "## Pools",
        "",
        *_pool_rows(stack),
        "",
        *fleet_section(stack),
        "## Routes",
        "",
        *_route_rows(stack),
        "",
        "## Router",
        "",
        *_router(stack, run),
        "",
        *_scale_to_zero(stack, run),
        f"## Resources ({len(run.resources)})",
        "",
        *resources,
        "",
    ]
    return "\n".join(lines)
