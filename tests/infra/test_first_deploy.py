"""What a first ``pulumi up`` on a fresh project needs: APIs before their users, a Kubernetes minor GKE offers,
images that a scaled-from-zero GPU pool can always pull, and connections the load balancer can reuse."""

from __future__ import annotations

import pulumi
import pytest

from config.stack import GkeClusterSpec, StackConfig
from infra.gcp.gke_versions import RECORDED_SERVER_CONFIG, minor, version_problem
from infra.k8s.images import docker_hub_path, pull_policy, through_mirror
from infra.offline.mocks import Registered, Run, run_program
from infra.offline.plan import validate
from infra.program import build
from infra.workloads.router_pod import KEEPALIVE_SECONDS
from tests.infra.fleet import containers, engine_config, env_of, file_value, inputs, one, pod_spec, run_stack

SERVICE = "gcp:projects/service:Service"
ENGINE_VERSIONS = "gcp:container/getEngineVersions:getEngineVersions"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
NEEDS_APIS = (
    "gcp:serviceaccount/account:Account",
    "gcp:projects/iAMMember:IAMMember",
    "gcp:compute/network:Network",
    "gcp:container/cluster:Cluster",
    REPOSITORY,
    "gcp:compute/globalAddress:GlobalAddress",
)


def _service_urns(run: Run) -> set[str]:
    return {r.urn for r in run.of_type(SERVICE)}


def test_everything_that_calls_a_gcp_api_waits_for_the_apis(dev: tuple[StackConfig, Run]) -> None:
    _, run = dev
    apis = _service_urns(run)
    assert len(apis) == 5
    waiting = [r for r in run.resources if r.type in NEEDS_APIS]
    assert {r.type for r in waiting} == set(NEEDS_APIS)
    for resource in waiting:
        assert apis <= set(resource.dependencies), f"{resource.type} {resource.name} does not wait for every API"


def test_node_pools_wait_for_the_node_roles(dev: tuple[StackConfig, Run]) -> None:
    _, run = dev
    roles = {r.urn for r in run.of_type("gcp:projects/iAMMember:IAMMember")}
    for node_pool in run.of_type("gcp:container/nodePool:NodePool"):
        assert roles <= set(node_pool.dependencies), node_pool.name


def test_the_default_follows_the_channel_and_asks_gke_nothing(dev: tuple[StackConfig, Run]) -> None:
    _, run = dev
    assert "minMasterVersion" not in one(run, "gcp:container/cluster:Cluster")
    assert ENGINE_VERSIONS not in run.calls


def _gke_cluster(**changes: object) -> dict[str, object]:
    cluster: dict[str, object] = file_value("dev", "cluster")
    return cluster | changes


def test_a_set_minor_gke_offers_is_pinned() -> None:
    _, run = run_stack("dev", cluster=_gke_cluster(kubernetesVersion="1.36", releaseChannel="REGULAR"))
    assert ENGINE_VERSIONS in run.calls
    assert one(run, "gcp:container/cluster:Cluster")["minMasterVersion"] == "1.36"


def test_a_minor_past_support_stops_the_preview_with_what_gke_offers() -> None:
    config, _ = engine_config("dev", cluster=_gke_cluster(kubernetesVersion="1.33"))
    with pytest.raises(pulumi.RunError) as caught:
        run_program(build, config, stack="dev")
    message = str(caught.value)
    assert message.startswith("cluster.kubernetesVersion: 1.33 is not offered by GKE in us-central1")
    assert "STABLE channel, which offers 1.35" in message and "remove kubernetesVersion" in message


def test_a_minor_only_newer_channels_carry_is_refused_on_stable() -> None:
    spec = GkeClusterSpec.model_validate({"kubernetesVersion": "1.37"})
    problem = version_problem(spec, RECORDED_SERVER_CONFIG)
    assert problem is not None and "offers 1.35 (channel default 1.35.6-gke.1421000)" in problem
    assert version_problem(spec.model_copy(update={"release_channel": "RAPID"}), RECORDED_SERVER_CONFIG) is None


def test_router_keeps_idle_connections_longer_than_googles_load_balancer(dev: tuple[StackConfig, Run]) -> None:
    _, run = dev
    deployment = one(run, "kubernetes:apps/v1:Deployment", name="ollama-fleet-router")
    env = env_of(containers(pod_spec(deployment))["router"])
    assert int(env["FLEET_KEEPALIVE"]) == KEEPALIVE_SECONDS > 600


def test_docker_hub_is_cached_in_the_clusters_region(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    mirror = one(run, REPOSITORY, repositoryId="docker-hub")
    assert mirror["mode"] == "REMOTE_REPOSITORY" and mirror["format"] == "DOCKER"
    assert mirror["remoteRepositoryConfig"]["dockerRepository"] == {"publicRepository": "DOCKER_HUB"}
    assert mirror["location"] == stack.region
    prefix = f"{stack.region}-docker.pkg.dev/{stack.project}/docker-hub/"
    for pool in stack.pools:
        server = containers(pod_spec(one(run, STATEFUL_SET, name=f"ollama-{pool.name}")))["ollama"]
        assert server["image"] == prefix + pool.ollama.image
        assert server["imagePullPolicy"] == "IfNotPresent"


def _statefulset(run: Run, name: str) -> Registered:
    return next(r for r in run.of_type(STATEFUL_SET) if inputs(r)["metadata"]["name"] == name)


def test_ollama_waits_for_the_mirror_and_the_nodes_right_to_read_it(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    mirror = next(r.urn for r in run.of_type(REPOSITORY) if inputs(r)["repositoryId"] == "docker-hub")
    backends = [r for r in run.resources if r.type == "ollama-fleet:infra:OllamaBackend"]
    assert {backend.name for backend in backends} == {f"ollama-{pool.name}" for pool in stack.pools}
    for backend in backends:
        assert mirror in backend.dependencies, backend.name
        assert _statefulset(run, backend.name).parent == backend.urn


WORKLOADS = ("kubernetes:apps/v1:DaemonSet", "kubernetes:apps/v1:Deployment", STATEFUL_SET)


def _pulled_images(run: Run) -> list[tuple[str, str, str]]:
    """(workload, image, pull policy) of every container and init container the stack runs."""
    found = []
    for resource in run.resources:
        if resource.type not in WORKLOADS:
            continue
        spec = pod_spec(inputs(resource))
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            found.append((resource.name, container["image"], container["imagePullPolicy"]))
    return found


@pytest.mark.parametrize("stack_name", ["dev", "hybrid"])
def test_no_gke_pod_pulls_from_docker_hub_and_pinned_images_are_pulled_once_per_node(stack_name: str) -> None:
    """A GPU node that scales from zero pulls every image of its driver and Ollama pods again: none of them may
    meet Docker Hub's pull limits (the driver checks' shell image included), and none is pulled on every start."""
    stack, run = run_stack(stack_name)
    prefix = f"{stack.region}-docker.pkg.dev/{stack.project}/docker-hub/"
    pulled = _pulled_images(run)
    assert any(image == prefix + "library/busybox:1.37.0" for _, image, _ in pulled), "the driver checks mirrored"
    for workload, image, policy in pulled:
        if policy == "Never":  # Google's installer images, preloaded on the node image
            continue
        assert docker_hub_path(image) is None or image.startswith(prefix), f"{workload} pulls {image} from Docker Hub"
        assert policy == pull_policy(image) == "IfNotPresent", f"{workload}: {image} is pulled {policy}"


def test_driver_pods_wait_for_the_mirror(dev: tuple[StackConfig, Run]) -> None:
    _, run = dev
    mirror = next(r.urn for r in run.of_type(REPOSITORY) if inputs(r)["repositoryId"] == "docker-hub")
    (installer,) = [r for r in run.resources if r.type == "ollama-fleet:infra:DriverInstaller"]
    assert mirror in installer.dependencies


def test_images_elsewhere_keep_their_registry_and_home_rigs_pull_directly(home: tuple[StackConfig, Run]) -> None:
    pools = file_value("dev", "pools")
    pools[3]["ollama"]["image"] = "ghcr.io/example/ollama:0.32.15"
    stack, run = run_stack("dev", pools=pools)
    server = containers(pod_spec(one(run, STATEFUL_SET, name="ollama-cpu")))["ollama"]
    assert server["image"] == "ghcr.io/example/ollama:0.32.15"
    home_stack, home_run = home
    for pool in home_stack.pools:
        server = containers(pod_spec(one(home_run, STATEFUL_SET, name=f"ollama-{pool.name}")))["ollama"]
        assert server["image"] == pool.ollama.image
    assert not home_run.of_type(REPOSITORY) and stack.is_gke


def test_docker_hub_references_and_pull_policies() -> None:
    assert docker_hub_path("ollama/ollama:0.32.15") == "ollama/ollama:0.32.15"
    assert docker_hub_path("docker.io/ollama/ollama:0.32.15") == "ollama/ollama:0.32.15"
    assert docker_hub_path("busybox:1.37.0") == "library/busybox:1.37.0"
    assert docker_hub_path("registry.home.arpa/ollama:1") is None
    assert docker_hub_path("localhost:5000/ollama:1") is None
    assert through_mirror("ollama/ollama:0.32.15", None) == "ollama/ollama:0.32.15"
    assert pull_policy("ollama/ollama:0.32.15") == "IfNotPresent"
    assert pull_policy("r.example/router@sha256:" + "0" * 64) == "IfNotPresent"
    assert pull_policy("dogkeeper886/ollama37:latest") == "Always"
    assert pull_policy("ollama/ollama") == "Always"


def test_a_moving_tag_is_pulled_again_on_every_start(home: tuple[StackConfig, Run]) -> None:
    _, run = home
    k80 = containers(pod_spec(one(run, STATEFUL_SET, name="ollama-k80")))["ollama"]
    assert k80["image"].endswith(":latest") and k80["imagePullPolicy"] == "Always"
    router = containers(pod_spec(one(run, "kubernetes:apps/v1:Deployment", name="ollama-fleet-router")))["router"]
    assert router["imagePullPolicy"] == "IfNotPresent", "a prebuilt image pinned at 0.1.0"


def test_every_minor_gke_offers_can_be_validated_offline() -> None:
    offered = {minor(v) for v in RECORDED_SERVER_CONFIG["validMasterVersions"]}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ollama-fleet"}}
    for version in sorted(offered):
        assert validate([namespace], version) == [], f"kubernetes-validate has no schema for {version}"
