"""The pod of one pool's Ollama replica: driver gate, model pull, and the server itself.

Init containers run in order: the driver gate (GPU pools) refuses a node whose driver is not the pin,
then the pull fills the volume (:mod:`infra.workloads.model_pull`). Only then does ``ollama serve`` start.
Everything runs as an unprivileged user on a read-only root filesystem: Ollama's home (its key, CUDA's
JIT cache) lives on the model volume, scratch space in an ``emptyDir``; the namespace enforces the
``restricted`` Pod Security profile.
"""

from __future__ import annotations

import pulumi_kubernetes as k8s

from config.k8s_names import OLLAMA_PORT
from config.memory import effective_memory, memory_plan
from config.stack import PoolSpec
from infra.drivers import check as driver_check
from infra.k8s.accelerator import gpu_resource, is_nvidia
from infra.k8s.helpers import (
    env_list,
    exec_probe,
    http_probe,
    mount,
    pod_security,
    resources,
    restricted_security,
)
from infra.k8s.images import pull_policy
from infra.k8s.placement import PoolPlacement
from infra.workloads import model_pull

DATA_DIR = "/var/lib/ollama"
MODELS_DIR = f"{DATA_DIR}/models"
VOLUME = "models"
SCRATCH = "tmp"
PORT_NAME = "http"
OLLAMA_USER = 10001
NO_CPU_LIMIT = "a CPU limit throttles inference threads and the request already reserves the CPU"


def images(pool: PoolSpec, check_image: str = driver_check.CHECK_IMAGE) -> list[str]:
    """Every image the pool's pods run."""
    return [pool.ollama.image, *([check_image] if is_nvidia(pool) and pool.driver else [])]


def _mounts() -> list[k8s.core.v1.VolumeMountArgs]:
    return [mount(VOLUME, DATA_DIR), mount(SCRATCH, "/tmp")]


def server_env(pool: PoolSpec) -> dict[str, str]:
    """The pool's ``OLLAMA_*`` settings, the memory rule's bounds, and the stack's address and model store."""
    return {
        **memory_plan(pool).env,
        **pool.ollama.env,
        "OLLAMA_HOST": f"0.0.0.0:{OLLAMA_PORT}",
        "OLLAMA_MODELS": MODELS_DIR,
        "HOME": DATA_DIR,
        "FLEET_MODELS": " ".join(pool.ollama.models),
    }


def _pull_container(pool: PoolSpec) -> k8s.core.v1.ContainerArgs:
    env = {
        **server_env(pool),
        "OLLAMA_HOST": f"127.0.0.1:{OLLAMA_PORT}",
        **({"NVIDIA_VISIBLE_DEVICES": "void"} if is_nvidia(pool) else {}),
        "PULL_ATTEMPTS": "6",
        "PULL_BACKOFF": "10",
    }
    return k8s.core.v1.ContainerArgs(
        name="model-pull",
        image=pool.ollama.image,
        image_pull_policy=pull_policy(pool.ollama.image),
        command=["sh", "-c", model_pull.PULL_SCRIPT],
        env=env_list(env),
        resources=resources("250m", "512Mi", cpu_limit="1", memory_limit="1Gi"),
        security_context=restricted_security(user=OLLAMA_USER),
        volume_mounts=_mounts(),
    )


def _server_container(pool: PoolSpec) -> k8s.core.v1.ContainerArgs:
    gpus = pool.gpus_per_node if pool.gpu is not None else 0
    return k8s.core.v1.ContainerArgs(
        name="ollama",
        image=pool.ollama.image,
        image_pull_policy=pull_policy(pool.ollama.image),
        ports=[k8s.core.v1.ContainerPortArgs(name=PORT_NAME, container_port=OLLAMA_PORT, protocol="TCP")],
        env=env_list(server_env(pool)),
        resources=resources(pool.ollama.cpu, effective_memory(pool), gpus=gpus, gpu_resource=gpu_resource(pool)),
        security_context=restricted_security(user=OLLAMA_USER),
        volume_mounts=_mounts(),
        startup_probe=http_probe("/", PORT_NAME, period=10, failures=60),
        liveness_probe=http_probe("/", PORT_NAME, period=20, failures=3),
        readiness_probe=exec_probe(model_pull.READY_SCRIPT, period=15, failures=2, timeout=10),
    )


def _spread(labels: dict[str, str]) -> k8s.core.v1.AffinityArgs:
    """Prefer one replica per node: a replica takes the node's GPUs, and a second node is a second failure domain."""
    return k8s.core.v1.AffinityArgs(
        pod_anti_affinity=k8s.core.v1.PodAntiAffinityArgs(
            preferred_during_scheduling_ignored_during_execution=[
                k8s.core.v1.WeightedPodAffinityTermArgs(
                    weight=100,
                    pod_affinity_term=k8s.core.v1.PodAffinityTermArgs(
                        topology_key="kubernetes.io/hostname",
                        label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                    ),
                )
            ]
        )
    )


def _volumes(pool: PoolSpec) -> list[k8s.core.v1.VolumeArgs]:
    scratch = k8s.core.v1.VolumeArgs(name=SCRATCH, empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="4Gi"))
    claim = pool.ollama.existing_claim
    if claim is None:
        return [scratch]
    source = k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(claim_name=claim)
    return [k8s.core.v1.VolumeArgs(name=VOLUME, persistent_volume_claim=source), scratch]


def pod_spec(
    pool: PoolSpec, placement: PoolPlacement, selector: dict[str, str], check_image: str = driver_check.CHECK_IMAGE
) -> k8s.core.v1.PodSpecArgs:
    """Pinned to the pool's nodes only; the driver gate first, the pull second, then the server."""
    init = [_pull_container(pool)]
    if is_nvidia(pool) and pool.driver:
        gate = driver_check.driver_check_container("driver-gate", pool.driver, check_image)
        init.insert(0, gate)
    return k8s.core.v1.PodSpecArgs(
        node_selector=placement.node_selector,
        tolerations=placement.tolerations(),
        affinity=_spread(selector),
        enable_service_links=False,
        automount_service_account_token=False,
        security_context=pod_security(user=OLLAMA_USER, groups=pool.ollama.supplemental_groups),
        init_containers=init,
        containers=[_server_container(pool)],
        volumes=_volumes(pool),
    )


def claim_templates(pool: PoolSpec) -> list[k8s.core.v1.PersistentVolumeClaimArgs] | None:
    """One model store per replica, unless the pool shares an existing claim."""
    if pool.ollama.existing_claim is not None:
        return None
    return [
        k8s.core.v1.PersistentVolumeClaimArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(name=VOLUME),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=[pool.ollama.access_mode],
                storage_class_name=pool.ollama.storage_class,
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": pool.ollama.storage}),
            ),
        )
    ]
