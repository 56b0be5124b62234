"""The router: image by digest, keys from secrets, graceful drain, Service, autoscaling, placement."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from config.derive import derive_model_map
from config.stack import StackConfig
from infra.offline.mocks import MOCK_DIGEST, MOCK_GENERATED_KEY, MOCK_LB_ADDRESS, REDACTED, Run
from infra.offline.render import SECRET_SIG_KEY
from tests.infra.fleet import containers, env_of, file_value, one, pod_spec, run_stack

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
SECRET = "kubernetes:core/v1:Secret"
ROUTER = "ollama-fleet-router"


def _router(run: Run) -> dict[str, Any]:
    return containers(pod_spec(one(run, DEPLOYMENT, name=ROUTER)))["router"]


def test_configmap_holds_exactly_the_derived_model_map(
    dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]
) -> None:
    for stack, run in (dev, home):
        config_map = one(run, "kubernetes:core/v1:ConfigMap")
        assert config_map["data"] == {"model-map.json": derive_model_map(stack).to_json()}


def test_router_mounts_the_model_map_and_points_at_it(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    deployment = one(run, DEPLOYMENT, name=ROUTER)
    spec = pod_spec(deployment)
    config_map = one(run, "kubernetes:core/v1:ConfigMap")["metadata"]["name"]
    volume = next(v for v in spec["volumes"] if v.get("configMap"))
    assert volume["configMap"]["name"] == config_map
    mount = next(m for m in _router(run)["volumeMounts"] if m["name"] == volume["name"])
    assert mount == {"name": volume["name"], "mountPath": "/etc/ollama-fleet/", "readOnly": True}
    assert env_of(_router(run))["FLEET_MODEL_MAP"] == "/etc/ollama-fleet/model-map.json"
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    assert annotations["ollama-fleet/model-map-version"] == derive_model_map(stack).version


def test_the_router_listens_beyond_loopback_in_its_pod_and_image(dev: tuple[StackConfig, Run]) -> None:
    """The router's own default is loopback; a pod that kept it would be unreachable through its Service."""
    _, run = dev
    assert env_of(_router(run))["FLEET_HOST"] == "0.0.0.0"
    dockerfile = (Path(__file__).resolve().parents[2] / "router" / "Dockerfile").read_text(encoding="utf-8")
    assert "ENV FLEET_HOST=0.0.0.0" in dockerfile


def test_built_image_is_deployed_by_digest(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    repository = one(run, "gcp:artifactregistry/repository:Repository", repositoryId="ollama-fleet")
    registry = f"{repository['location']}-docker.pkg.dev/{stack.project}/{repository['repositoryId']}"
    assert _router(run)["image"] == f"{registry}/router@{MOCK_DIGEST}"
    image = run.of_type("docker-build:index:Image")[0].inputs
    assert image["context"] == {"location": "."}
    assert image["dockerfile"] == {"location": "router/Dockerfile"}
    assert image["buildOnPreview"] is False and image["push"] is True
    assert image["tags"] == [f"{registry}/router:latest"]
    registries = image["registries"]
    assert SECRET_SIG_KEY in registries, "the access token must travel as a secret"
    auth = registries["value"][0]
    assert auth["address"] == f"{repository['location']}-docker.pkg.dev" and auth["username"] == "oauth2accesstoken"
    assert "gcp:organizations/getClientConfig:getClientConfig" in run.calls


def test_prebuilt_image_is_used_as_is(home: tuple[StackConfig, Run]) -> None:
    stack, run = home
    assert _router(run)["image"] == stack.router.image


def test_public_service_without_keys_gets_a_generated_secret_key(dev: tuple[StackConfig, Run]) -> None:
    _, run = dev
    assert len(run.of_type("random:index/randomPassword:RandomPassword")) == 1
    assert run.outputs["routerApiKey"] == MOCK_GENERATED_KEY and "routerApiKey" in run.secret_outputs
    secret = one(run, SECRET)
    assert secret["stringData"] == {"api-keys": REDACTED}
    api = env_of(_router(run))["FLEET_API_KEYS"]
    assert api == {"secretKeyRef": {"name": secret["metadata"]["name"], "key": "api-keys"}}
    assert "FLEET_ADMIN_KEYS" not in env_of(_router(run))


def test_configured_keys_come_from_secret_config_and_nothing_is_generated() -> None:
    router = file_value("dev", "router") | {"apiKeys": "sk-one,sk-two", "adminKeys": "adm-one"}
    _, run = run_stack("dev", ("ollama-fleet:router",), router=router)
    assert not run.of_type("random:index/randomPassword:RandomPassword") and "routerApiKey" not in run.outputs
    raw = run.of_type(SECRET)[0].inputs["stringData"]
    assert SECRET_SIG_KEY in json.dumps(raw)
    assert one(run, SECRET)["stringData"] == {"api-keys": REDACTED, "admin-keys": REDACTED}
    env = env_of(_router(run))
    assert env["FLEET_API_KEYS"]["secretKeyRef"]["key"] == "api-keys"
    assert env["FLEET_ADMIN_KEYS"]["secretKeyRef"]["key"] == "admin-keys"


def _plain_router(**changes: Any) -> dict[str, Any]:
    """The dev stack's router without its HTTPS Ingress, with ``changes``."""
    router: dict[str, Any] = file_value("dev", "router")
    router.pop("tls", None)
    return router | changes


def test_anonymous_or_cluster_internal_routers_get_no_key() -> None:
    for change in ({"allowAnonymous": True}, {"service": {"type": "ClusterIP"}}):
        _, run = run_stack("dev", router=_plain_router(**change))
        assert not run.of_type("random:index/randomPassword:RandomPassword"), change
        assert not run.of_type(SECRET) and "FLEET_API_KEYS" not in env_of(_router(run))


def test_a_router_behind_the_https_ingress_gets_a_key_though_its_service_is_cluster_internal(
    dev: tuple[StackConfig, Run],
) -> None:
    stack, run = dev
    assert stack.router.service.type == "ClusterIP" and stack.router.tls is not None
    assert len(run.of_type("random:index/randomPassword:RandomPassword")) == 1


def test_service_exposes_the_configured_port_on_the_router_port(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    service = one(run, SERVICE, name=ROUTER)
    assert service["spec"]["type"] == stack.router.service.type
    assert service["spec"]["ports"] == [
        {"name": "http", "port": stack.router.service.port, "targetPort": "http", "protocol": "TCP"}
    ]
    assert service["spec"]["selector"] == one(run, DEPLOYMENT, name=ROUTER)["spec"]["selector"]["matchLabels"]
    assert _router(run)["ports"] == [{"name": "http", "containerPort": 11434, "protocol": "TCP"}]


def test_a_load_balancer_url_names_its_address_and_port() -> None:
    service = {"type": "LoadBalancer", "port": 8080, "internal": True}
    _, run = run_stack("dev", router=_plain_router(service=service))
    assert run.outputs["routerUrl"] == f"http://{MOCK_LB_ADDRESS}:8080"
    assert "routerAddress" not in run.outputs and "routerNodePort" not in run.outputs


def test_internal_balancer_and_source_ranges() -> None:
    service = {"type": "LoadBalancer", "port": 80, "internal": True, "sourceRanges": ["10.0.0.0/8"]}
    _, run = run_stack("dev", router=_plain_router(service=service))
    spec = one(run, SERVICE, name=ROUTER)
    assert spec["metadata"]["annotations"] == {"networking.gke.io/load-balancer-type": "Internal"}
    assert spec["spec"]["loadBalancerSourceRanges"] == ["10.0.0.0/8"]
    assert spec["spec"]["ports"][0]["port"] == 80 and spec["spec"]["ports"][0]["targetPort"] == "http"


def test_a_public_balancer_opted_into_clear_text_keeps_its_source_ranges_and_no_internal_annotation() -> None:
    service = {"type": "LoadBalancer", "sourceRanges": ["203.0.113.0/24", "198.51.100.0/24"]}
    _, run = run_stack("dev", router=_plain_router(service=service, allowInsecureHttp=True))
    spec = one(run, SERVICE, name=ROUTER)
    assert "annotations" not in spec["metadata"]
    assert spec["spec"]["type"] == "LoadBalancer"
    assert spec["spec"]["loadBalancerSourceRanges"] == ["203.0.113.0/24", "198.51.100.0/24"]


def test_source_ranges_never_reach_a_service_that_is_no_balancer() -> None:
    _, run = run_stack("dev", router=_plain_router(service={"type": "ClusterIP"}))
    assert "loadBalancerSourceRanges" not in one(run, SERVICE, name=ROUTER)["spec"]


def test_graceful_drain_probes_and_resources(dev: tuple[StackConfig, Run]) -> None:
    _, run = dev
    spec = pod_spec(one(run, DEPLOYMENT, name=ROUTER))
    router = _router(run)
    assert 45 <= spec["terminationGracePeriodSeconds"] <= 90
    assert router["lifecycle"]["preStop"]["sleep"]["seconds"] > 0
    assert router["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert router["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert router["resources"]["requests"].keys() == {"cpu", "memory"}
    assert router["securityContext"]["runAsNonRoot"] is True and router["securityContext"]["readOnlyRootFilesystem"]


def test_replicas_spread_and_autoscale(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    deployment = one(run, DEPLOYMENT, name=ROUTER)
    assert "replicas" not in deployment["spec"], "the autoscaler owns replicas"
    keys = [c["topologyKey"] for c in pod_spec(deployment)["topologySpreadConstraints"]]
    assert keys == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
    hpa = one(run, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] == stack.router.replicas and hpa["spec"]["maxReplicas"] > stack.router.replicas
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": ROUTER}
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    pdb = one(run, "kubernetes:policy/v1:PodDisruptionBudget", name="ollama-fleet-router")
    assert pdb["spec"]["selector"] == deployment["spec"]["selector"] and pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow", "a crash-looping pod never blocks a drain"


def test_router_runs_on_the_system_pool(dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]) -> None:
    assert pod_spec(one(dev[1], DEPLOYMENT, name=ROUTER))["nodeSelector"] == {"cloud.google.com/gke-nodepool": "system"}
    spec = pod_spec(one(home[1], DEPLOYMENT, name=ROUTER))
    assert "nodeSelector" not in spec  # the home stack sets no systemNodeSelector
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": "fleet/gpu", "operator": "NotIn", "values": ["k80", "l4", "m40"]}]}]


def test_old_clusters_drain_with_exec_sleep() -> None:
    cluster = file_value("home", "cluster") | {"kubernetesVersion": "1.29"}
    _, run = run_stack("home", cluster=cluster)
    assert _router(run)["lifecycle"]["preStop"] == {"exec": {"command": ["sleep", "10"]}}


def test_ollama_is_reachable_from_the_router_only(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    labels = one(run, DEPLOYMENT, name=ROUTER)["spec"]["template"]["metadata"]["labels"]
    for pool in stack.pools:
        policy = one(run, "kubernetes:networking.k8s.io/v1:NetworkPolicy", name=f"ollama-{pool.name}-ingress")
        peer = policy["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
        assert peer.items() <= labels.items()
        ollama = one(run, "kubernetes:apps/v1:StatefulSet", name=f"ollama-{pool.name}")
        assert policy["spec"]["podSelector"] == ollama["spec"]["selector"]
        assert policy["spec"]["ingress"][0]["ports"] == [{"port": 11434, "protocol": "TCP"}]
        assert policy["spec"]["policyTypes"] == ["Ingress"]


def test_a_replaced_keys_secret_rolls_the_router_pods(dev: tuple[StackConfig, Run]) -> None:
    """Keys sit in env vars, read at start: a rotated key replaces the Secret, whose new uid rolls the pods."""
    _, run = dev
    [secret] = run.of_type(SECRET)
    annotations = one(run, DEPLOYMENT, name=ROUTER)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["ollama-fleet/keys-secret-uid"] == str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SECRET}/{secret.name}"))
    _, anonymous = run_stack("dev", router=_plain_router(allowAnonymous=True))
    assert not anonymous.of_type(SECRET)
    annotations = one(anonymous, DEPLOYMENT, name=ROUTER)["spec"]["template"]["metadata"]["annotations"]
    assert "ollama-fleet/keys-secret-uid" not in annotations
