"""The router's HTTPS door: what ``router.tls`` renders on GKE and on an existing cluster, and nothing otherwise.

GKE's custom kinds (ManagedCertificate, BackendConfig, FrontendConfig) have no schema in
kubernetes-validate: they are the only kinds exempt from it, and are checked against their own strict
schemas here and in ``make plan``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from config.stack import StackConfig
from infra.k8s import custom_resources
from infra.offline import plan
from infra.offline.mocks import MOCK_ROUTER_ADDRESS, Run
from tests.infra.fleet import ROOT, containers, file_value, one, pod_spec, run_stack

INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
CERTIFICATE = "kubernetes:networking.gke.io/v1:ManagedCertificate"
BACKEND_CONFIG = "kubernetes:cloud.google.com/v1:BackendConfig"
FRONTEND_CONFIG = "kubernetes:networking.gke.io/v1beta1:FrontendConfig"
ADDRESS = "gcp:compute/globalAddress:GlobalAddress"
SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"
SERVICE = "kubernetes:core/v1:Service"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
ROUTER = "ollama-fleet-router"
GKE_ONLY = (CERTIFICATE, BACKEND_CONFIG, FRONTEND_CONFIG, ADDRESS, SSL_POLICY)


def _backend_of(rule: dict[str, Any]) -> dict[str, Any]:
    [path] = rule["http"]["paths"]
    assert path["path"] == "/" and path["pathType"] == "Prefix"
    backend: dict[str, Any] = path["backend"]["service"]
    return backend


def _serves_the_router_service(run: Run, ingress: dict[str, Any]) -> None:
    service = one(run, SERVICE, name=ROUTER)
    for rule in ingress["spec"]["rules"]:
        backend = _backend_of(rule)
        assert backend["name"] == service["metadata"]["name"]
        assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}


def test_gke_with_domains_gets_a_google_managed_certificate_on_a_reserved_address(
    dev: tuple[StackConfig, Run],
) -> None:
    stack, run = dev
    assert stack.router.tls is not None and stack.router.tls.google_managed
    domains = stack.router.tls.domains
    ingress = one(run, INGRESS, name=ROUTER)
    annotations = ingress["metadata"]["annotations"]
    certificate = one(run, CERTIFICATE)
    frontend = one(run, FRONTEND_CONFIG)
    address, policy = one(run, ADDRESS), one(run, SSL_POLICY)
    assert annotations["kubernetes.io/ingress.class"] == "gce"
    assert annotations["kubernetes.io/ingress.allow-http"] == "false", "bearer keys never cross plain HTTP"
    assert annotations["kubernetes.io/ingress.global-static-ip-name"] == address["name"]
    assert annotations["networking.gke.io/managed-certificates"] == certificate["metadata"]["name"]
    assert annotations["networking.gke.io/v1beta1.FrontendConfig"] == frontend["metadata"]["name"]
    assert certificate["spec"] == {"domains": domains}
    assert frontend["spec"] == {"sslPolicy": policy["name"]}
    assert policy["minTlsVersion"] == "TLS_1_2" and policy["profile"] == "MODERN"
    assert address["project"] == policy["project"] == stack.project
    assert [rule["host"] for rule in ingress["spec"]["rules"]] == domains
    assert "tls" not in ingress["spec"] and "ingressClassName" not in ingress["spec"]
    _serves_the_router_service(run, ingress)
    assert run.outputs["routerUrl"] == f"https://{domains[0]}"
    assert run.outputs["routerAddress"] == MOCK_ROUTER_ADDRESS


def test_behind_gke_ingress_the_router_is_a_container_native_backend_that_streams(
    dev: tuple[StackConfig, Run],
) -> None:
    _, run = dev
    service = one(run, SERVICE, name=ROUTER)
    backend = one(run, BACKEND_CONFIG)
    annotations = service["metadata"]["annotations"]
    assert json.loads(annotations["cloud.google.com/neg"]) == {"ingress": True}
    assert json.loads(annotations["cloud.google.com/backend-config"]) == {"default": backend["metadata"]["name"]}
    assert service["spec"]["type"] == "ClusterIP"
    spec = pod_spec(one(run, DEPLOYMENT, name=ROUTER))
    router = containers(spec)["router"]
    assert backend["spec"]["timeoutSec"] >= 600, "the balancer's 30 s default would cut streamed answers"
    assert backend["spec"]["healthCheck"]["requestPath"] == router["readinessProbe"]["httpGet"]["path"]
    assert backend["spec"]["healthCheck"]["port"] == router["ports"][0]["containerPort"]
    assert backend["spec"]["connectionDraining"]["drainingTimeoutSec"] <= spec["terminationGracePeriodSeconds"]


def _tls_router(stack: str, tls: dict[str, Any], **changes: Any) -> dict[str, Any]:
    router: dict[str, Any] = file_value(stack, "router")
    router.pop("allowInsecureHttp", None)
    return router | {"tls": tls, "service": {"type": "ClusterIP"}} | changes


def test_gke_with_a_secret_serves_the_users_certificate_and_provisions_none() -> None:
    tls = {"secretName": "fleet-tls", "domains": ["ollama.example.net", "llm.example.net"]}
    _, run = run_stack("dev", router=_tls_router("dev", tls))
    ingress = one(run, INGRESS, name=ROUTER)
    assert ingress["spec"]["tls"] == [{"hosts": tls["domains"], "secretName": "fleet-tls"}]
    assert "networking.gke.io/managed-certificates" not in ingress["metadata"]["annotations"]
    assert ingress["metadata"]["annotations"]["kubernetes.io/ingress.allow-http"] == "false"
    assert not run.of_type(CERTIFICATE) and run.of_type(FRONTEND_CONFIG) and run.of_type(BACKEND_CONFIG)
    assert run.outputs["routerUrl"] == "https://ollama.example.net"


def test_an_existing_cluster_gets_a_standard_ingress_for_its_own_controller() -> None:
    tls = {"secretName": "fleet-tls", "domains": ["ollama.home.arpa"], "ingressClassName": "traefik"}
    _, run = run_stack("home", router=_tls_router("home", tls))
    ingress = one(run, INGRESS, name=ROUTER)
    assert ingress["spec"]["ingressClassName"] == "traefik"
    assert ingress["spec"]["tls"] == [{"hosts": ["ollama.home.arpa"], "secretName": "fleet-tls"}]
    assert ingress["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}, "no GKE annotation"
    _serves_the_router_service(run, ingress)
    assert not [r for r in run.resources if r.type in GKE_ONLY]
    assert "annotations" not in one(run, SERVICE, name=ROUTER)["metadata"]
    assert run.outputs["routerUrl"] == "https://ollama.home.arpa" and "routerAddress" not in run.outputs
    assert "routerApiKey" in run.secret_outputs, "a router behind the Ingress is reachable: it gets a key"


def test_a_secret_without_domains_answers_every_host_and_states_no_url_before_the_ingress_has_one() -> None:
    _, run = run_stack("home", router=_tls_router("home", {"secretName": "fleet-tls"}))
    ingress = one(run, INGRESS, name=ROUTER)
    assert ingress["spec"]["tls"] == [{"secretName": "fleet-tls"}]
    [rule] = ingress["spec"]["rules"]
    assert "host" not in rule
    assert "routerUrl" not in run.outputs, "no address yet is no output, not a sentence in its place"


def test_without_tls_there_is_no_ingress_and_nothing_of_gke_s_load_balancer(home: tuple[StackConfig, Run]) -> None:
    router: dict[str, Any] = file_value("dev", "router")
    del router["tls"]
    _, dev_plain = run_stack("dev", router=router | {"service": {"type": "LoadBalancer", "internal": True}})
    for run in (home[1], dev_plain):
        assert not run.of_type(INGRESS)
        assert not [r for r in run.resources if r.type in GKE_ONLY]
        assert "routerAddress" not in run.outputs


# --- GKE's custom kinds: exempt from kubernetes-validate, checked by their own schema -------------------


@pytest.fixture(scope="module")
def custom_documents(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """The custom resources of the dev plan, as ``make plan`` writes and validates them."""
    written = plan.write_plan("dev", tmp_path_factory.mktemp("plan"), root=ROOT)
    assert written.problems == []
    return [d for d in written.documents if (d["apiVersion"], d["kind"]) in custom_resources.SCHEMAS]


def test_only_the_listed_custom_kinds_skip_kubernetes_validate(custom_documents: list[dict[str, Any]]) -> None:
    assert set(custom_resources.SCHEMAS) == {
        ("networking.gke.io/v1", "ManagedCertificate"),
        ("cloud.google.com/v1", "BackendConfig"),
        ("networking.gke.io/v1beta1", "FrontendConfig"),
    }
    assert sorted(d["kind"] for d in custom_documents) == ["BackendConfig", "FrontendConfig", "ManagedCertificate"]
    for document in custom_documents:
        assert custom_resources.problems(document) == [], document
    gateway = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "x", "namespace": "n"},
        "spec": {"gatewayClassName": "gke-l7-global-external-managed", "listeners": []},
    }
    assert custom_resources.problems(gateway) is None
    assert "Couldn't find schema" in plan.validate([gateway], "1.33")[0], "an unlisted kind is not waved through"


def _mutated(documents: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return copy.deepcopy(next(d for d in documents if d["kind"] == kind))


@pytest.mark.parametrize(
    ("kind", "path", "value", "message"),
    [
        ("ManagedCertificate", ("spec", "domains"), ["*.example.org"], "does not match"),
        ("ManagedCertificate", ("spec", "domains"), [f"{'a' * 60}.example.org"], "is too long"),
        ("ManagedCertificate", ("spec", "domains"), [f"h{i}.example.org" for i in range(101)], "is too long"),
        ("ManagedCertificate", ("spec", "domain"), ["a.example.org"], "Additional properties"),
        ("BackendConfig", ("spec", "timeoutSec"), "3600", "is not of type 'integer'"),
        ("BackendConfig", ("spec", "healthCheck", "type"), "TCP", "is not one of"),
        ("BackendConfig", ("spec", "healthCheck", "requestPath"), "readyz", "does not match"),
        ("FrontendConfig", ("spec", "redirectToHttps", "enable"), True, "Additional properties"),
        ("FrontendConfig", ("metadata", "nmae"), "x", "Additional properties"),
    ],
)
def test_a_broken_custom_resource_fails_the_plan(
    custom_documents: list[dict[str, Any]], kind: str, path: tuple[str, ...], value: Any, message: str
) -> None:
    document = _mutated(custom_documents, kind)
    node = document
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    problems = plan.validate([document], "1.33")
    assert problems and message in problems[0], problems
    assert problems[0].startswith(f"{kind} ollama-fleet/ollama-fleet-router: ")
