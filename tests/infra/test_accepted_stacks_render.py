"""Validate once, for real: any stack ``check-config`` accepts renders under the mocks, with valid manifests.

Stacks are drawn from the schema's own vocabulary (GKE and existing clusters, GPU and CPU pools, every
router exposure); the ones the rules refuse are discarded, the rest must run through the real program. A
set ``kubernetesVersion`` is drawn from what GKE offers its channel: whether GKE still offers a minor is
GKE's answer at preview time, not something a config check can know.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from config.errors import ConfigError
from config.loading import from_pulumi_config
from infra.gcp.gke_versions import RECORDED_SERVER_CONFIG, manifest_minor, offered_minors
from infra.offline.mocks import run_program
from infra.offline.plan import validate
from infra.offline.render import manifests
from infra.program import build

GPUS = ("nvidia-tesla-t4", "nvidia-l4", "nvidia-tesla-a100", "nvidia-tesla-p4", "nvidia-tesla-k80", "nvidia-tesla-m40")
DRIVERS = ("570.124.06", "580.95.05", "470.256.02", "550.163.01")
IMAGES = ("ollama/ollama:0.32.15", "dogkeeper886/ollama37:latest", "ghcr.io/example/ollama:1.0")
MACHINES = ("n1-standard-8", "n2-standard-8", "g2-standard-8", "a2-highgpu-1g", "e2-standard-4")
MODELS = ("llama3.2:3b", "qwen2.5:7b", "nomic-embed-text", "gemma3:12b")
ZONES = ("us-central1-a", "us-central1-b", "us-central1-c")
CHANNELS = ("RAPID", "REGULAR", "STABLE", "EXTENDED")


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


@st.composite
def _pool(draw: st.DrawFn, name: str, gke: bool) -> dict[str, Any]:
    gpu = draw(_optional(st.sampled_from(GPUS)))
    pool: dict[str, Any] = {
        "name": name,
        "gpu": gpu,
        "gpusPerNode": draw(st.sampled_from((1, 1, 2))) if gpu else None,
        "driver": draw(st.sampled_from(DRIVERS)) if gpu else None,
        "ollama": {
            "image": draw(st.sampled_from(IMAGES)),
            "minDriver": draw(_optional(st.just("470.42.01"))),
            "replicas": draw(st.integers(1, 2)),
            "models": draw(st.lists(st.sampled_from(MODELS), max_size=3, unique=True)),
        },
    }
    if gke:
        maximum = draw(st.integers(1, 3))
        pool |= {
            "machineType": draw(_optional(st.sampled_from(MACHINES))),
            "zones": draw(st.lists(st.sampled_from(ZONES), min_size=1, max_size=2, unique=True)),
            "nodeImage": draw(st.sampled_from(("COS_CONTAINERD", "UBUNTU_CONTAINERD"))),
            "nodes": {"min": draw(st.integers(0, maximum)), "max": maximum},
            "spot": draw(st.booleans()),
        }
    else:
        pool["nodeSelector"] = {"fleet/gpu": name}
        pool["taint"] = draw(_optional(st.just({"key": "fleet/gpu", "value": name})))
    return {key: value for key, value in pool.items() if value is not None}


@st.composite
def _cluster(draw: st.DrawFn, gke: bool) -> dict[str, Any]:
    if not gke:
        return {
            "type": "existing",
            "kubernetesVersion": draw(st.sampled_from(("1.30", "1.33", "1.35"))),
            "devicePlugin": draw(st.booleans()),
            "systemNodeSelector": draw(st.sampled_from(({}, {"fleet/role": "system"}))),
        }
    channel = draw(st.sampled_from(CHANNELS))
    latest = RECORDED_SERVER_CONFIG["releaseChannelLatestVersion"][channel]
    offered = offered_minors(RECORDED_SERVER_CONFIG["validMasterVersions"], latest)
    cluster = {
        "type": "gke",
        "location": draw(st.sampled_from(("us-central1", "us-central1-a"))),
        "releaseChannel": channel,
        "kubernetesVersion": draw(_optional(st.sampled_from(offered))),
        "deletionProtection": draw(st.booleans()),
    }
    return {key: value for key, value in cluster.items() if value is not None}


@st.composite
def _router(draw: st.DrawFn, gke: bool) -> dict[str, Any]:
    service = draw(st.sampled_from(("LoadBalancer", "ClusterIP", "NodePort")))
    router: dict[str, Any] = {
        "replicas": draw(st.integers(1, 3)),
        "service": {"type": service, "internal": service == "LoadBalancer" and draw(st.booleans())},
        "allowAnonymous": draw(st.booleans()),
        "allowInsecureHttp": draw(st.booleans()),
    }
    if not gke or draw(st.booleans()):
        router["image"] = draw(st.sampled_from(("ghcr.io/example/router:0.1.0", "registry.home.arpa/router:latest")))
    if draw(st.booleans()):
        router["tls"] = {"domains": ["ollama.example.org"]} if gke else {"secretName": "router-tls"}
    return router


@st.composite
def engine_configs(draw: st.DrawFn) -> dict[str, str]:
    """A whole stack's config as the engine passes it to the program (structured values as JSON)."""
    gke = draw(st.booleans())
    names = draw(st.lists(st.sampled_from(("t4", "l4", "big", "cpu")), min_size=1, max_size=3, unique=True))
    values: dict[str, Any] = {
        "cluster": draw(_cluster(gke)),
        "pools": [draw(_pool(name, gke)) for name in names],
        "router": draw(_router(gke)),
    }
    config = {f"ollama-fleet:{key}": json.dumps(value) for key, value in values.items()}
    if gke:
        config["gcp:project"] = "fleet-property"
        config["gcp:region"] = "us-central1"
    return config


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(engine_configs())
def test_every_accepted_stack_renders_with_valid_manifests(config: dict[str, str]) -> None:
    try:
        stack = from_pulumi_config(config, source="generated stack")
    except ConfigError:
        assume(False)
        return
    run = run_program(build, config, stack="property")
    assert run.of_type("kubernetes:apps/v1:StatefulSet"), "every pool gets its Ollama"
    assert validate(manifests(run.resources), manifest_minor(stack)) == []
