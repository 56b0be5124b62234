"""Derive the router's model map from a validated stack: the one place routing is decided.

Every pool's models route to that pool (pools listed first are preferred when several pull the same
model); explicit ``routes`` replace what the pools imply for their model. Backend URLs point at the
Services infra creates (:mod:`config.k8s_names`), and ``max_in_flight`` is what the pool can hold before
Ollama itself would answer 503: replicas × (OLLAMA_NUM_PARALLEL + OLLAMA_MAX_QUEUE). ``num_parallel`` is
the pool's OLLAMA_NUM_PARALLEL (Ollama's default is 1: ``NumParallel = Uint("OLLAMA_NUM_PARALLEL", 1)`` in
https://github.com/ollama/ollama/blob/main/envconfig/config.go), which warm-first routing uses to tell a loaded
model with a free slot from a saturated one. An external pool is
its own URL, with the paths where the router's pods find its CA bundle and token (never the token).
"""

from __future__ import annotations

from config.external import ca_key, token_key, upstream_path
from config.k8s_names import backend_url, ollama_headless_service, ollama_service, ollama_statefulset
from config.model_map import Backend, ModelMap, Route, RouteTarget
from config.model_names import model_key
from config.scaling import BackendScale
from config.stack import PoolSpec, StackConfig

OLLAMA_DEFAULT_NUM_PARALLEL = 1
OLLAMA_DEFAULT_MAX_QUEUE = 512


def num_parallel(pool: PoolSpec) -> int:
    """Requests one loaded model of a replica answers at once: the pool's OLLAMA_NUM_PARALLEL or Ollama's default."""
    return max(1, int(pool.ollama.env.get("OLLAMA_NUM_PARALLEL", OLLAMA_DEFAULT_NUM_PARALLEL)))


def max_in_flight(pool: PoolSpec) -> int:
    """Requests the pool can take at once: each replica runs NUM_PARALLEL and queues MAX_QUEUE more."""
    env = pool.ollama.env
    parallel = int(env.get("OLLAMA_NUM_PARALLEL", OLLAMA_DEFAULT_NUM_PARALLEL))
    queue = int(env.get("OLLAMA_MAX_QUEUE", OLLAMA_DEFAULT_MAX_QUEUE))
    return pool.ollama.replicas * max(1, parallel + queue)


def external_backend(pool: PoolSpec) -> Backend:
    """The backend entry of an external pool: its URL and the mounted files of its CA and token."""
    assert pool.external is not None, "only for external pools"
    external = pool.external
    return Backend(
        name=pool.name,
        url=external.url,
        external=True,
        ca_file=upstream_path(ca_key(pool.name)) if external.ca_bundle is not None else None,
        token_file=upstream_path(token_key(pool.name)) if external.token is not None else None,
    )


def pool_backend(pool: PoolSpec, namespace: str) -> Backend:
    """The backend entry of one pool; several replicas are addressed one by one via the headless Service."""
    if pool.external is not None:
        return external_backend(pool)
    several = pool.ollama.replicas > 1
    service = ollama_headless_service(pool.name) if several else ollama_service(pool.name)
    return Backend(
        name=pool.name,
        url=backend_url(service, namespace),
        max_in_flight=max_in_flight(pool),
        num_parallel=num_parallel(pool),
        resolve=several,
        scale=backend_scale(pool, namespace),
    )


def backend_scale(pool: PoolSpec, namespace: str) -> BackendScale | None:
    """What the router needs to sleep and wake a pool that scales to zero (None for the others)."""
    spec = pool.ollama.scale_to_zero
    if spec is None:
        return None
    return BackendScale(
        namespace=namespace,
        statefulset=ollama_statefulset(pool.name),
        replicas=pool.ollama.replicas,
        idle_after_s=spec.idle_after_s,
        wake_timeout_s=spec.wake_timeout_s,
    )


def _implied_routes(stack: StackConfig) -> dict[str, Route]:
    served: dict[str, tuple[str, list[str]]] = {}
    for pool in stack.pools:
        for model in pool.models:
            served.setdefault(model_key(model), (model, []))[1].append(pool.name)
    return {
        key: Route(
            model=model,
            backends=[RouteTarget(name=name, priority=rank) for rank, name in enumerate(pools)],
        )
        for key, (model, pools) in served.items()
    }


def derive_model_map(stack: StackConfig) -> ModelMap:
    """The model-map document for ``stack``, exactly what the ConfigMap holds and the router reads."""
    routes = _implied_routes(stack)
    for route in stack.routes:
        routes[model_key(route.model)] = route
    return ModelMap(
        backends=[pool_backend(pool, stack.cluster.namespace) for pool in stack.pools],
        routes=list(routes.values()),
        aliases=dict(stack.aliases),
        default_backend=stack.default_pool,
    )
