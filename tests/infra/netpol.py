"""A small model of Kubernetes NetworkPolicy, written from the API's rules, not from the program's code.

It answers one question — may ``src`` open a connection to ``dst`` on ``port``/``protocol``? — following
``networking.k8s.io/v1``:

* a pod is isolated for ingress (egress) when some policy of its namespace selects it and has ``Ingress``
  (``Egress``) in ``policyTypes``; without ``policyTypes`` a policy is ``[Ingress]``, plus ``Egress`` when
  it has egress rules;
* a connection needs the source's egress and the destination's ingress; a side that is not isolated
  allows everything, an isolated side needs one rule of one selecting policy to match (policies only
  ever add allowances);
* a rule matches when one of its peers matches (no ``from``/``to``: every peer) and one of its ports
  matches (no ``ports``: every port); a peer is ``podSelector`` (pods of the policy's namespace),
  ``namespaceSelector`` (every pod of the matching namespaces), both (matching pods of matching
  namespaces), or ``ipBlock`` (addresses in ``cidr`` and in no ``except``);
* a named port resolves against the destination pod's container ports; ``endPort`` makes a range;
* a ``hostNetwork`` pod is not governed by pod policies (its traffic is the node's).

Pods have addresses too, and an ``ipBlock`` that covers one lets it through: the model errs on the side
of allowing, so a "denied" verdict holds whichever way a CNI treats ipBlocks for pod addresses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

NAMESPACE_NAME = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Pod:
    """A pod as policies see it: namespace, labels, address, named container ports."""

    name: str
    namespace: str
    labels: Mapping[str, str]
    ip: str
    ports: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    host_network: bool = False

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class External:
    """An address outside the cluster's pods (the internet, the metadata server, a Service IP)."""

    ip: str

    def __str__(self) -> str:
        return self.ip


Endpoint = Pod | External


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector: every matchLabels pair and every matchExpression holds; an empty selector matches all."""
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def policy_types(spec: Mapping[str, Any]) -> set[str]:
    """Declared types, or the API's default: Ingress, plus Egress when egress rules exist."""
    declared = spec.get("policyTypes")
    if declared:
        return set(declared)
    return {"Ingress", "Egress"} if spec.get("egress") else {"Ingress"}


def in_block(ip: str, block: Mapping[str, Any]) -> bool:
    """Whether ``ip`` is in the block's cidr and in none of its exceptions (IPv4 and IPv6 never mix)."""
    address = ipaddress.ip_address(ip)
    cidr = ipaddress.ip_network(block["cidr"])
    if address.version != cidr.version or address not in cidr:
        return False
    return not any(address in ipaddress.ip_network(item) for item in block.get("except") or [])


@dataclass
class Cluster:
    """Namespaces (name → labels) and the NetworkPolicies in force, as rendered manifests or recorded inputs."""

    namespaces: dict[str, dict[str, str]]
    policies: list[dict[str, Any]]

    def namespace_labels(self, name: str) -> dict[str, str]:
        """A namespace's labels, including the name label Kubernetes sets on every namespace."""
        return {**self.namespaces.get(name, {}), NAMESPACE_NAME: name}

    def _selecting(self, pod: Pod, direction: str) -> list[dict[str, Any]]:
        return [
            policy
            for policy in self.policies
            if policy["metadata"].get("namespace") == pod.namespace
            and selector_matches(policy["spec"].get("podSelector"), pod.labels)
            and direction in policy_types(policy["spec"])
        ]

    def _peer_matches(self, peer: Mapping[str, Any], policy_namespace: str, other: Endpoint) -> bool:
        if "ipBlock" in peer:
            return in_block(other.ip, peer["ipBlock"])
        if not isinstance(other, Pod):
            return False
        if "namespaceSelector" in peer:
            if not selector_matches(peer["namespaceSelector"], self.namespace_labels(other.namespace)):
                return False
        elif other.namespace != policy_namespace:
            return False
        return "podSelector" not in peer or selector_matches(peer["podSelector"], other.labels)

    @staticmethod
    def _port_matches(spec: Mapping[str, Any], dst: Endpoint, port: int, protocol: str) -> bool:
        if spec.get("protocol", "TCP") != protocol:
            return False
        wanted = spec.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str):
            named = dst.ports.get(wanted) if isinstance(dst, Pod) else None
            return named is not None and named == (port, protocol)
        return int(wanted) <= port <= int(spec.get("endPort", wanted))

    def _side_allows(self, pod: Pod, direction: str, other: Endpoint, connection: tuple[Endpoint, int, str]) -> bool:
        """Whether ``pod``'s side lets ``connection`` (dst, port, protocol) through; ``other`` is the far end."""
        dst, port, protocol = connection
        if pod.host_network:
            return True
        policies = self._selecting(pod, direction)
        if not policies:
            return True
        rules_key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
        for policy in policies:
            namespace = policy["metadata"]["namespace"]
            for rule in policy["spec"].get(rules_key) or []:
                peers = rule.get(peers_key)
                ports = rule.get("ports")
                peer_ok = not peers or any(self._peer_matches(p, namespace, other) for p in peers)
                port_ok = not ports or any(self._port_matches(p, dst, port, protocol) for p in ports)
                if peer_ok and port_ok:
                    return True
        return False

    def allowed(self, src: Endpoint, dst: Endpoint, port: int, protocol: str = "TCP") -> bool:
        """Whether ``src`` may connect to ``dst`` on ``port``/``protocol``."""
        connection = (dst, port, protocol)
        if isinstance(src, Pod) and not self._side_allows(src, "Egress", dst, connection):
            return False
        return not isinstance(dst, Pod) or self._side_allows(dst, "Ingress", src, connection)


@dataclass(frozen=True)
class Expectation:
    """One connection and the verdict the stack promises for it."""

    src: Endpoint
    dst: Endpoint
    port: int
    protocol: str
    allowed: bool
    why: str

    def __str__(self) -> str:
        verdict = "allowed" if self.allowed else "denied"
        return f"{self.src} → {self.dst}:{self.port}/{self.protocol} must be {verdict} ({self.why})"


def violations(cluster: Cluster, expectations: Iterable[Expectation]) -> list[str]:
    """Every expectation the cluster's policies break."""
    return [str(e) for e in expectations if cluster.allowed(e.src, e.dst, e.port, e.protocol) is not e.allowed]


def workload_pods(workloads: Sequence[Mapping[str, Any]], first_ip: int = 10) -> list[Pod]:
    """One pod per workload (Deployment, StatefulSet, DaemonSet) from its template, on the pod network."""
    found: list[Pod] = []
    for index, workload in enumerate(workloads):
        template = workload["spec"]["template"]
        spec = template["spec"]
        ports = {
            port["name"]: (int(port["containerPort"]), port.get("protocol", "TCP"))
            for container in [*spec.get("initContainers", []), *spec["containers"]]
            for port in container.get("ports", [])
            if "name" in port
        }
        host = bool(spec.get("hostNetwork"))
        ip = f"10.10.0.{first_ip + index}" if host else f"10.16.0.{first_ip + index}"
        found.append(
            Pod(
                workload["metadata"]["name"],
                workload["metadata"]["namespace"],
                dict(template["metadata"]["labels"]),
                ip,
                ports,
                host,
            )
        )
    return found
