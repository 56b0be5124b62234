"""Who may talk to whom: the rendered NetworkPolicies asked through an independent evaluator (``netpol``).

The pods are the stack's own workloads (one per Deployment, StatefulSet, DaemonSet, from their
templates) plus the ones any cluster has: kube-dns, a stray pod in the fleet's namespace, one in the
drivers' namespace, one in ``default``, clients outside. Every connection the stack promises — and
every one it forbids — is an :class:`Expectation`; the mutation tests prove the check has teeth: drop
the default-deny policy (or another piece) and an expectation breaks.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from config.stack import StackConfig
from infra.offline.mocks import Run
from tests.infra.fleet import POOL_LABEL_KEY, inputs
from tests.infra.netpol import Cluster, Endpoint, Expectation, External, Pod, violations, workload_pods

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet")
TCP, UDP = "TCP", "UDP"
OLLAMA, DNS = 11434, 53

INTERNET = External("1.1.1.1")
METADATA = External("169.254.169.254")
GKE_METADATA_SERVER = External("169.254.169.252")
"""Where GKE's metadata server listens (port 988) on Dataplane V2 nodes."""
CLUSTER_SERVICE = External("10.20.0.10")
CLIENT = External("203.0.113.9")


@dataclass
class World:
    """The stack's pods and the bystanders every cluster has, under the stack's policies."""

    cluster: Cluster
    router: Pod
    pools: dict[str, Pod]
    drivers: dict[str, Pod]
    plugin: Pod | None
    kube_dns: Pod
    stray: Pod
    stray_driver: Pod
    stranger: Pod


def world(stack: StackConfig, run: Run, policies: list[dict[str, Any]] | None = None) -> World:
    fleet = stack.cluster.namespace
    namespaces = {
        inputs(r)["metadata"]["name"]: dict(inputs(r)["metadata"].get("labels", {}))
        for r in run.of_type("kubernetes:core/v1:Namespace")
    }
    namespaces |= {"kube-system": {}, "default": {}}
    pods = workload_pods([inputs(r) for token in WORKLOADS for r in run.of_type(token)])
    by_name = {pod.name: pod for pod in pods}
    dns_ports = {"dns": (DNS, UDP), "dns-tcp": (DNS, TCP)}
    return World(
        cluster=Cluster(namespaces, policies if policies is not None else network_policies(run)),
        router=by_name["ollama-fleet-router"],
        pools={
            p.labels[POOL_LABEL_KEY]: p for p in pods if p.name.startswith("ollama-") and POOL_LABEL_KEY in p.labels
        },
        drivers={p.labels[POOL_LABEL_KEY]: p for p in pods if p.name.startswith("nvidia-driver-")},
        plugin=by_name.get("nvidia-device-plugin"),
        kube_dns=Pod("kube-dns", "kube-system", {"k8s-app": "kube-dns"}, "10.16.9.10", dns_ports),
        stray=Pod("debug-shell", fleet, {"app": "debug-shell"}, "10.16.9.20", {"http": (8080, TCP)}),
        stray_driver=Pod("leftover", f"{fleet}-drivers", {"app": "leftover"}, "10.16.9.21"),
        stranger=Pod("web", "default", {"app": "web"}, "10.16.9.30", {"http": (8080, TCP)}),
    )


def network_policies(run: Run) -> list[dict[str, Any]]:
    return [inputs(r) for r in run.of_type(NETWORK_POLICY)]


def expectations(w: World) -> list[Expectation]:
    """Every connection the NetworkPolicies must let through or refuse, and why, as connections and verdicts."""
    found: list[Expectation] = []

    def expect(src: Endpoint, dst: Endpoint, port: int, allowed: bool, why: str, *, protocol: str = TCP) -> None:
        found.append(Expectation(src, dst, port, protocol, allowed, why))

    for name, pool in w.pools.items():
        expect(w.router, pool, OLLAMA, True, "the router reaches every pool")
        expect(w.router, pool, 8080, False, "the router reaches a pool on Ollama's port only")
        for other in (p for n, p in w.pools.items() if n != name):
            expect(other, pool, OLLAMA, False, "pools never reach each other")
        expect(w.stray, pool, OLLAMA, False, "no other pod of the namespace reaches Ollama")
        expect(w.stranger, pool, OLLAMA, False, "no pod of another namespace reaches Ollama")
        expect(CLIENT, pool, OLLAMA, False, "nothing outside the cluster reaches Ollama")
        expect(pool, INTERNET, 443, True, "Ollama pulls models from the internet on 443")
        expect(pool, INTERNET, 80, False, "Ollama pulls over HTTPS only")
        expect(pool, METADATA, 80, False, "Ollama never reaches the metadata server")
        expect(pool, METADATA, 443, False, "the link-local range is no part of the internet")
        expect(pool, GKE_METADATA_SERVER, 988, False, "nor GKE's metadata server")
        expect(pool, CLUSTER_SERVICE, 443, False, "nor the cluster's own addresses on 443")
        expect(pool, w.router, OLLAMA, False, "Ollama never calls the router")
    expect(w.router, INTERNET, 443, False, "the router never reaches the internet")
    expect(w.router, METADATA, 80, False, "the router never reaches the metadata server")
    expect(w.stranger, w.router, OLLAMA, True, "the router serves anyone on its port")
    expect(CLIENT, w.router, OLLAMA, True, "load balancers and their clients reach the router's port")
    expect(w.stranger, w.router, 9090, False, "the router accepts its serving port only")
    expect(w.stray, w.router, OLLAMA, False, "a stray pod of the namespace may not even call the router")
    expect(w.stray, INTERNET, 443, False, "any other pod of the namespace is denied by default (egress)")
    expect(CLIENT, w.stray, 8080, False, "any other pod of the namespace is denied by default (ingress)")
    expect(w.stray_driver, INTERNET, 443, False, "the drivers' namespace denies by default")
    expect(CLIENT, w.stray_driver, 8080, False, "the drivers' namespace denies ingress by default")
    expect(w.stranger, INTERNET, 443, True, "namespaces the stack does not own are left alone")
    ours = [w.router, *w.pools.values(), *w.drivers.values(), w.stray, w.stray_driver]
    for pod in ours:
        for protocol in (UDP, TCP):
            expect(pod, w.kube_dns, DNS, True, "everyone resolves names through kube-dns", protocol=protocol)
        expect(pod, METADATA, DNS, True, "Cloud DNS for GKE answers on the metadata address, port 53", protocol=UDP)
    for name, driver in w.drivers.items():
        if driver.host_network:
            continue  # an installer shares the node's network; pod policies do not apply to it
        expect(CLIENT, driver, 8080, False, "nothing connects to a driver pod")
        expect(w.stray, driver, 8080, False, "not even from the fleet's namespace")
        expect(driver, w.pools[name], OLLAMA, False, "a driver pod never reaches Ollama")
        expect(driver, METADATA, 80, False, "a driver pod never reaches the metadata server")
        expect(driver, CLUSTER_SERVICE, 443, False, "nor the cluster's own addresses")
        expect(driver, INTERNET, 443, False, "a verifier needs no network")
    if w.plugin is not None:
        expect(w.plugin, INTERNET, 443, False, "the device plugin talks to the kubelet's socket only")
        expect(w.plugin, w.kube_dns, DNS, False, "the device plugin needs not even DNS", protocol=UDP)
        expect(CLIENT, w.plugin, 8080, False, "nothing connects to the device plugin")
    return found


@pytest.mark.parametrize("name", ["dev", "home"])
def test_every_promised_connection_is_allowed_and_every_other_denied(
    name: str, dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]
) -> None:
    stack, run = dev if name == "dev" else home
    w = world(stack, run)
    assert len(w.pools) == len(stack.pools) and len(w.drivers) == len([p for p in stack.pools if p.gpu])
    assert (w.plugin is not None) is (not stack.is_gke)
    found = expectations(w)
    assert len(found) > 50
    assert violations(w.cluster, found) == []


def test_only_the_installers_share_the_node_network(
    dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]
) -> None:
    """Installers reach apt mirrors, NVIDIA and the metadata server as the node does; verifiers stay held."""
    stack, run = dev
    w = world(stack, run)
    images = {pool.node_image for pool in stack.pools if pool.gpu is not None}
    assert images == {"COS_CONTAINERD", "UBUNTU_CONTAINERD"}
    assert all(w.drivers[pool.name].host_network for pool in stack.pools if pool.gpu is not None)
    assert not any(p.host_network for p in [w.router, *w.pools.values()])
    verifiers = world(*home).drivers.values()
    assert verifiers and not any(driver.host_network for driver in verifiers)


# --- mutations: the check has teeth ---------------------------------------------------------------------

Mutation = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def _without(name: str, namespace: str | None = None) -> Mutation:
    """Drop the one policy called ``name`` (in ``namespace``, when several namespaces have one)."""

    def mutate(policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        def dropped(policy: dict[str, Any]) -> bool:
            meta = policy["metadata"]
            return bool(meta["name"] == name and namespace in (None, meta["namespace"]))

        kept = [p for p in policies if not dropped(p)]
        assert len(kept) == len(policies) - 1, f"no single {name} to drop"
        return kept

    return mutate


def _fleet_only(name: str) -> Mutation:
    """Drop ``name`` from the fleet's namespace (the drivers' namespace keeps its own)."""
    return _without(name, "ollama-fleet")


def _edit(name: str, change: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutate(policies: list[dict[str, Any]]) -> list[dict[str, Any]]:
        edited = copy.deepcopy(policies)
        targets = [p for p in edited if p["metadata"]["name"] == name]
        assert targets, name
        for policy in targets:
            change(policy["spec"])
        return edited

    return mutate


def _drop_except(spec: dict[str, Any]) -> None:
    spec["egress"][0]["to"][0]["ipBlock"].pop("except")


def _from_anyone(spec: dict[str, Any]) -> None:
    spec["ingress"][0].pop("from")


MUTATIONS: dict[str, tuple[Mutation, str]] = {
    "no default-deny in the fleet namespace": (
        _fleet_only("default-deny"),
        "any other pod of the namespace is denied by default",
    ),
    "no default-deny in the drivers namespace": (
        _without("default-deny", "ollama-fleet-drivers"),
        "the drivers' namespace denies",
    ),
    "Ollama's internet without exceptions": (
        _edit("ollama-t4-egress", _drop_except),
        "the link-local range is no part of the internet",
    ),
    "Ollama open to every pod": (_edit("ollama-l4-ingress", _from_anyone), "reaches Ollama"),
    "no router egress": (_without("ollama-fleet-router-egress"), "the router reaches every pool"),
    "no DNS in the fleet namespace": (_fleet_only("allow-dns"), "everyone resolves names"),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_a_weakened_or_missing_policy_breaks_an_expectation(mutation: str, dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    mutate, broken = MUTATIONS[mutation]
    w = world(stack, run, mutate(network_policies(run)))
    found = violations(w.cluster, expectations(w))
    assert any(broken in line for line in found), found


def test_dropping_the_default_deny_opens_a_stray_pod(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    intact = world(stack, run)
    assert not intact.cluster.allowed(CLIENT, intact.stray, 8080)
    w = world(stack, run, _fleet_only("default-deny")(network_policies(run)))
    assert w.cluster.allowed(CLIENT, w.stray, 8080)
    # allow-dns selects every pod for egress, so egress stays closed even then: two locks, not one
    assert not w.cluster.allowed(w.stray, INTERNET, 443)
    w = world(stack, run, _fleet_only("allow-dns")(_fleet_only("default-deny")(network_policies(run))))
    assert w.cluster.allowed(w.stray, INTERNET, 443)


# --- the evaluator follows Kubernetes' rules ------------------------------------------------------------


def _policy(namespace: str, spec: dict[str, Any], name: str = "p") -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace}, "spec": spec}


def test_the_evaluator_follows_the_network_policy_api() -> None:
    a = Pod("a", "ns", {"app": "a"}, "10.16.0.1", {"web": (8080, TCP)})
    b = Pod("b", "ns", {"app": "b"}, "10.16.0.2")
    c = Pod("c", "other", {"app": "a"}, "10.16.0.3")
    nobody = Cluster({"ns": {}, "other": {"team": "x"}}, [])
    assert nobody.allowed(a, b, 1) and nobody.allowed(b, INTERNET, 443), "no policy: everything is allowed"

    ingress_only = Cluster({"ns": {}}, [_policy("ns", {"podSelector": {"matchLabels": {"app": "a"}}, "ingress": []})])
    assert not ingress_only.allowed(b, a, 8080) and ingress_only.allowed(a, b, 1)
    assert ingress_only.allowed(a, INTERNET, 443), "policyTypes defaults to Ingress when there are no egress rules"

    named = Cluster({"ns": {}}, [_policy("ns", {"podSelector": {}, "ingress": [{"ports": [{"port": "web"}]}]})])
    assert named.allowed(b, a, 8080) and not named.allowed(b, a, 8081) and not named.allowed(a, b, 8080)

    both = {"namespaceSelector": {"matchLabels": {"team": "x"}}, "podSelector": {"matchLabels": {"app": "a"}}}
    anded = Cluster(
        {"ns": {}, "other": {"team": "x"}}, [_policy("ns", {"podSelector": {}, "ingress": [{"from": [both]}]})]
    )
    assert anded.allowed(c, b, 1) and not anded.allowed(a, b, 1), "one peer: namespace AND pod"
    apart = [{"namespaceSelector": both["namespaceSelector"]}, {"podSelector": both["podSelector"]}]
    ored = Cluster(
        {"ns": {}, "other": {"team": "x"}}, [_policy("ns", {"podSelector": {}, "ingress": [{"from": apart}]})]
    )
    assert ored.allowed(c, b, 1) and ored.allowed(a, b, 1), "two peers: namespace OR pod"

    block = {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.0.0/16"]}}
    egress = Cluster(
        {"ns": {}},
        [
            _policy(
                "ns",
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [block], "ports": [{"port": 440, "endPort": 450}]}],
                },
            )
        ],
    )
    assert (
        egress.allowed(a, INTERNET, 443)
        and not egress.allowed(a, METADATA, 443)
        and not egress.allowed(a, INTERNET, 80)
    )
    assert not egress.allowed(a, External("2001:db8::1"), 443), "an IPv4 block never matches IPv6"
    assert egress.allowed(a, b, 443), "pods have addresses too: the model errs on the side of allowing"

    elsewhere = Cluster(
        {"ns": {}, "other": {}}, [_policy("other", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})]
    )
    assert elsewhere.allowed(a, b, 1) and not elsewhere.allowed(a, c, 1), "a policy isolates its own namespace only"
    host = Pod("h", "other", {}, "10.10.0.1", host_network=True)
    assert elsewhere.allowed(host, INTERNET, 443), "hostNetwork pods are not governed"

    expressions = {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["b"]}]}
    exprs = Cluster({"ns": {}}, [_policy("ns", {"podSelector": expressions, "policyTypes": ["Ingress"]})])
    assert not exprs.allowed(b, a, 1) and exprs.allowed(a, b, 1)
