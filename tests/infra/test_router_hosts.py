"""The router's Deployment tells it which Host names to answer (its DNS-rebinding guard): the Service's
cluster names, loopback names and the TLS domains; behind a plain-HTTP NodePort, any."""

from __future__ import annotations

from config.stack import StackConfig
from infra.k8s.helpers import ROUTER_APP
from infra.offline.mocks import Run
from tests.infra.fleet import containers, env_of, one, pod_spec


def _router_env(run: Run) -> dict[str, object]:
    deployment = one(run, "kubernetes:apps/v1:Deployment", name=ROUTER_APP)
    return env_of(containers(pod_spec(deployment))["router"])


def test_a_clusterip_router_behind_tls_answers_its_service_names_and_domains(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    names = str(_router_env(run)["FLEET_ALLOWED_HOSTS"]).split(",")
    namespace = stack.cluster.namespace
    assert names[:4] == [
        ROUTER_APP,
        f"{ROUTER_APP}.{namespace}",
        f"{ROUTER_APP}.{namespace}.svc",
        f"{ROUTER_APP}.{namespace}.svc.cluster.local",
    ]
    assert stack.router.tls is not None and set(stack.router.tls.domains) <= set(names)
    assert {"localhost", "127.0.0.1", "[::1]"} <= set(names), "kubectl port-forward keeps working"


def test_a_plain_http_node_port_router_answers_any_host(home: tuple[StackConfig, Run]) -> None:
    _, run = home
    assert "FLEET_ALLOWED_HOSTS" not in _router_env(run)
