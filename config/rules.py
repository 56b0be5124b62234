"""Cross-field rules: what pydantic's per-field checks cannot see, above all the GPU catalog's facts.

Each rule yields :class:`~config.errors.Problem` objects naming the config path, the bad value and the
fix; :func:`check_stack` raises one :class:`~config.errors.ConfigError` with all of them. A fact the
catalog marks unverified never refuses a config.
"""

from __future__ import annotations

from collections.abc import Iterator

from config.amd_data import AMD_CATALOG, amd_info
from config.amd_rules import amd_pool_problems
from config.cluster_rules import maintenance_problems, router_placement_problems
from config.drivers import branch, is_branch_pin, is_official_image, official_min_driver, version_tuple
from config.errors import ConfigError, Problem
from config.external_rules import external_pool_problems
from config.gpu_catalog import GPU_CATALOG, GpuInfo, gpu_info
from config.k8s_names import SYSTEM_POOL
from config.memory import memory_problems
from config.model_names import model_key
from config.node_rules import driver_pin_problems, spot_zone_problems
from config.router_rules import router_problems
from config.scaling_rules import scale_to_zero_problems
from config.stack import PoolSpec, StackConfig

SHARED_CORE = frozenset({"f1-micro", "g1-small"})
SHAREABLE_MODES = frozenset({"ReadWriteMany", "ReadOnlyMany"})
INTEGER_ENV = ("OLLAMA_NUM_PARALLEL", "OLLAMA_MAX_QUEUE", "OLLAMA_MAX_LOADED_MODELS")


def check_stack(stack: StackConfig) -> None:
    """Raise :class:`ConfigError` listing every rule the validated structure breaks."""
    problems = list(stack_problems(stack))
    for index, pool in enumerate(stack.pools):
        problems.extend(pool_problems(pool, index, gke=stack.is_gke))
        problems.extend(scale_to_zero_problems(pool, index, gke=stack.is_gke))
    if problems:
        raise ConfigError("stack config", problems)


def stack_problems(stack: StackConfig) -> Iterator[Problem]:
    """Rules that span pools, routes, aliases and the cluster."""
    names = [pool.name for pool in stack.pools]
    for index, name in enumerate(names):
        if name in names[:index]:
            yield Problem(f"pools[{index}].name", f"pool name {name!r} is used twice", "give each pool its own name")
    if stack.is_gke and not stack.project:
        yield Problem("gcp:project", "is required for a GKE cluster", "pulumi config set gcp:project <project-id>")
    if not stack.is_gke and stack.router.image is None:
        yield Problem(
            "router.image",
            "an existing cluster has no registry for the stack to build the router image into",
            "set router.image to a prebuilt image, e.g. ghcr.io/<you>/ollama-fleet-router:<tag>",
        )
    if stack.default_pool is not None and stack.default_pool not in names:
        yield Problem("defaultPool", f"unknown pool {stack.default_pool!r}", _one_of(names))
    yield from _route_problems(stack)
    yield from _alias_problems(stack)
    yield from router_problems(stack)
    yield from maintenance_problems(stack)
    yield from router_placement_problems(stack)


def _route_problems(stack: StackConfig) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for i, route in enumerate(stack.routes):
        key = model_key(route.model)
        if key in seen:
            yield Problem(f"routes[{i}].model", f"{route.model!r} is already routed by routes[{seen[key]}]")
        seen.setdefault(key, i)
        for j, target in enumerate(route.backends):
            pool = stack.pool(target.name)
            path = f"routes[{i}].backends[{j}]"
            if pool is None:
                yield Problem(path, f"unknown pool {target.name!r}", _one_of([p.name for p in stack.pools]))
            elif key not in {model_key(m) for m in pool.models}:
                where, verb = ("external.models", "serve") if pool.external else ("ollama.models", "pull")
                yield Problem(
                    path,
                    f"pool {pool.name!r} does not {verb} {route.model!r}",
                    f"add it to pools[{stack.pools.index(pool)}].{where} or drop {pool.name!r} here",
                )


def _alias_problems(stack: StackConfig) -> Iterator[Problem]:
    served = {model_key(m) for pool in stack.pools for m in pool.models}
    served |= {model_key(route.model) for route in stack.routes}
    for alias, target in stack.aliases.items():
        if model_key(alias) in served:
            yield Problem(f"aliases.{alias}", "an alias cannot share the name of a served model", "rename it")
        if model_key(target) not in served and stack.default_pool is None:
            yield Problem(
                f"aliases.{alias}", f"points at {target!r}, which no pool serves", "add it to a pool's models"
            )


def pool_problems(pool: PoolSpec, index: int, *, gke: bool) -> Iterator[Problem]:
    """Rules for one pool; ``gke`` says whether the stack creates the cluster."""
    at = f"pools[{index}]"
    if pool.external is not None:
        yield from external_pool_problems(pool, at)
        return
    yield from _model_problems(pool, at)
    yield from _volume_problems(pool, at)
    yield from _env_problems(pool, at)
    yield from memory_problems(pool, at)
    if gke:
        yield from _gke_pool_problems(pool, at)
        yield from spot_zone_problems(pool, at)
    elif not pool.node_selector:
        yield Problem(
            f"{at}.nodeSelector",
            "an existing cluster's pool needs a node selector that finds its nodes",
            "label the nodes (kubectl label node <n> fleet/gpu=k80) and set nodeSelector: {fleet/gpu: k80}",
        )
    if pool.gpu is None:
        yield from _cpu_pool_problems(pool, at)
        return
    amd = amd_info(pool.gpu)
    if amd is not None:
        yield from amd_pool_problems(pool, amd, at, gke=gke)
        return
    info = gpu_info(pool.gpu)
    if info is None:
        yield Problem(f"{at}.gpu", f"unknown GPU {pool.gpu!r}", _one_of(sorted([*GPU_CATALOG, *AMD_CATALOG])))
        return
    yield from _gpu_problems(pool, info, at, gke=gke)


def _model_problems(pool: PoolSpec, at: str) -> Iterator[Problem]:
    keys = [model_key(model) for model in pool.ollama.models]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            yield Problem(f"{at}.ollama.models[{i}]", f"{pool.ollama.models[i]!r} is listed twice", "remove one")


def _volume_problems(pool: PoolSpec, at: str) -> Iterator[Problem]:
    ollama = pool.ollama
    if ollama.existing_claim and ollama.replicas > 1 and ollama.access_mode not in SHAREABLE_MODES:
        yield Problem(
            f"{at}.ollama.replicas",
            f"{ollama.replicas} replicas cannot share the {ollama.access_mode} claim {ollama.existing_claim!r}",
            "use replicas: 1, a ReadWriteMany claim (accessMode: ReadWriteMany), or drop existingClaim "
            "so each replica gets its own volume",
        )


def _env_problems(pool: PoolSpec, at: str) -> Iterator[Problem]:
    for name in INTEGER_ENV:
        value = pool.ollama.env.get(name)
        if value is not None and not value.isdigit():
            yield Problem(f"{at}.ollama.env.{name}", f"must be a whole number, got {value!r}", f'e.g. {name}: "4"')


def _gke_pool_problems(pool: PoolSpec, at: str) -> Iterator[Problem]:
    if pool.name == SYSTEM_POOL:
        yield Problem(f"{at}.name", f"{pool.name!r} is the GKE system pool's name", "pick another pool name")
    if not pool.zones:
        yield Problem(f"{at}.zones", "a GKE pool needs the zones to run in", "e.g. zones: [us-central1-a]")
    if pool.effective_machine_type is None:
        what = "a CPU pool" if pool.gpu is None else f"GPU {pool.gpu!r}, which has no default machine type,"
        yield Problem(
            f"{at}.machineType",
            f"is not set, and {what} needs one on GKE",
            "set machineType, e.g. machineType: n2-standard-8 for a CPU pool",
        )
    if pool.ollama.replicas > pool.nodes.max:
        yield Problem(
            f"{at}.ollama.replicas",
            f"{pool.ollama.replicas} replicas need a node each but nodes.max is {pool.nodes.max}",
            f"raise nodes.max to at least {pool.ollama.replicas}",
        )
    if pool.node_selector:
        yield Problem(f"{at}.nodeSelector", "is for existing clusters; GKE pools are selected by name", "remove it")


def _cpu_pool_problems(pool: PoolSpec, at: str) -> Iterator[Problem]:
    if pool.driver is not None:
        yield Problem(f"{at}.driver", "a CPU-only pool has no GPU driver", "remove driver, or set gpu")
    if pool.gpus_per_node != 1:
        yield Problem(f"{at}.gpusPerNode", "a CPU-only pool has no GPUs", "remove gpusPerNode, or set gpu")


def _gpu_problems(pool: PoolSpec, info: GpuInfo, at: str, *, gke: bool) -> Iterator[Problem]:
    if gke:
        if info.gcp_offered.verified and not info.gcp_offered.value:
            yield Problem(
                f"{at}.gpu",
                f"{info.key} ({info.name}) is not offered by GCP",
                "run this pool on a cluster you already own (cluster.type: existing, see Pulumi.home.yaml)",
            )
        else:
            yield from _machine_problems(pool, info, at)
    if pool.driver is None:
        yield Problem(f"{at}.driver", "a GPU pool needs a pinned driver version", 'e.g. driver: "570.124.06"')
        return
    yield from driver_pin_problems(pool, at, gke=gke)
    yield from _branch_problems(pool.driver, info, at)
    yield from _image_driver_problems(pool, info, at)


def _machine_problems(pool: PoolSpec, info: GpuInfo, at: str) -> Iterator[Problem]:
    machine = pool.effective_machine_type
    if machine is None:
        return
    fixed = info.fixed_machines.value
    family = machine.split("-", 1)[0]
    if machine in fixed:
        if info.fixed_machines.verified and fixed[machine] != pool.gpus_per_node:
            yield Problem(
                f"{at}.gpusPerNode",
                f"{machine} carries {fixed[machine]} × {info.key}, not {pool.gpus_per_node}",
                f"set gpusPerNode: {fixed[machine]} or pick the machine type with {pool.gpus_per_node} GPUs",
            )
    elif family in info.attach_families.value and machine not in SHARED_CORE:
        counts = info.attach_counts.value
        if info.attach_counts.verified and pool.gpus_per_node not in counts:
            yield Problem(
                f"{at}.gpusPerNode",
                f"{machine} takes {', '.join(map(str, counts))} × {info.key}, not {pool.gpus_per_node}",
                f"use one of {list(counts)}",
            )
    elif info.fixed_machines.verified and info.attach_families.verified:
        yield Problem(f"{at}.machineType", f"{machine!r} cannot carry {info.key}", _machine_fix(info))


def _machine_fix(info: GpuInfo) -> str:
    if info.attach_families.value:
        families = "/".join(f.upper() for f in info.attach_families.value)
        return f"use an {families} machine type such as {info.default_machine_type}"
    return f"use one of {', '.join(sorted(info.fixed_machines.value))}"


def _branch_problems(driver: str, info: GpuInfo, at: str) -> Iterator[Problem]:
    driver_branch = branch(driver)
    low, high = info.min_driver_branch, info.max_driver_branch
    if low.verified and driver_branch < low.value:
        yield Problem(
            f"{at}.driver",
            f"R{driver_branch} is too old for {info.key}: support starts with R{low.value}",
            f"pin a driver of branch R{low.value} or newer",
        )
    if high.verified and high.value is not None and driver_branch > high.value:
        yield Problem(
            f"{at}.driver",
            f"R{driver_branch} no longer supports {info.key} ({info.architecture}): its last branch is R{high.value}",
            f"pin an R{high.value} driver",
        )


def _image_driver_problems(pool: PoolSpec, info: GpuInfo, at: str) -> Iterator[Problem]:
    image, driver = pool.ollama.image, pool.driver or ""
    capability = info.compute_capability.value
    if not is_official_image(image):
        floor = pool.ollama.min_driver
        if floor is None:
            yield Problem(
                f"{at}.ollama.minDriver",
                f"{image!r} is not an official ollama/ollama image, so its driver floor is unknown",
                "set ollama.minDriver to the oldest driver the image supports (e.g. 470.42.01 for a CUDA 11.4 build)",
            )
        elif _below(driver, floor):
            yield Problem(f"{at}.driver", f"{driver} is below the image's minDriver {floor}", f"pin {floor} or newer")
        return
    if info.compute_capability.verified and capability < (5, 0):
        yield Problem(
            f"{at}.ollama.image",
            f"official Ollama builds need compute capability 5.0+; {info.key} is {capability[0]}.{capability[1]}",
            "use a build for this GPU (e.g. dogkeeper886/ollama37 for Kepler) and set ollama.minDriver",
        )
        return
    needed = official_min_driver(capability)
    if branch(driver) < needed:
        yield Problem(
            f"{at}.driver",
            f"official Ollama images need driver R{needed}+ on {info.key}, got {driver}",
            f"pin an R{needed} or newer driver such as 570.124.06",
        )


def _below(driver: str, floor: str) -> bool:
    """Whether a pin is older than an image's floor; a branch pin is compared by branch, its only promise."""
    if is_branch_pin(driver):
        return branch(driver) < branch(floor)
    return version_tuple(driver) < version_tuple(floor)


def _one_of(names: list[str]) -> str:
    return f"use one of: {', '.join(names)}"
