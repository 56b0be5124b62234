"""NetworkPolicies: every namespace of the stack denies by default; each workload is let through by name.

Dataplane V2 (GKE) enforces them; on an existing cluster the CNI must (k3s' built-in controller, Calico,
Cilium). The shape, per namespace the stack owns (the fleet's and the drivers'):

* ``default-deny``: every pod is isolated for ingress and egress;
* ``allow-dns``: every pod may ask the cluster's resolver on 53/UDP+TCP: the kube-dns pods, or the
  link-local resolvers GKE puts in their place (Cloud DNS answers on the metadata server's address,
  NodeLocal DNSCache on 169.254.20.10) — on port 53 only, never the metadata server's HTTP API;
* the components add their own allowances (router ← anyone on its port, router → Ollama on 11434,
  Ollama ← router, Ollama → the internet on 443). Driver installers need none: they run in the node's
  network namespace, where pod policies do not apply (:mod:`infra.drivers.installer` says why).

"The internet" is ``0.0.0.0/0`` minus every address that is not: the link-local range (the metadata
server 169.254.169.254, GKE's metadata server 169.254.169.252 under Dataplane V2, NodeLocal DNSCache)
and the private ranges (the cluster's nodes, pods, Services and control plane, and the rest of the VPC or
LAN). IPv6 is not listed, so it stays denied. Policies add up, so a user can allow more (a pull-through
proxy on the LAN, say) with a policy of their own, without editing the stack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from infra.k8s.helpers import app_labels, meta, selector_labels

DNS_PORT = 53
HTTPS_PORT = 443
KUBE_DNS_NAMESPACE = "kube-system"
KUBE_DNS_LABELS = {"k8s-app": "kube-dns"}
"""kube-dns on GKE and CoreDNS on kubeadm and k3s clusters all carry this label."""
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
"""Set by Kubernetes on every namespace (1.22+): selects a namespace by its name."""
METADATA_SERVER = "169.254.169.254/32"
"""The (GKE) metadata server; with Cloud DNS for GKE it is also every pod's DNS resolver, on port 53."""
NODE_LOCAL_DNS = "169.254.20.10/32"
"""NodeLocal DNSCache's listening address on GKE."""
LINK_LOCAL = "169.254.0.0/16"
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
"""RFC 1918: nodes, pods, Services and the control plane of this stack's clusters, and the VPC or LAN around them."""
NOT_INTERNET = (LINK_LOCAL, *PRIVATE_RANGES)
ANY_IPV4 = "0.0.0.0/0"

DEFAULT_DENY = "default-deny"
ALLOW_DNS = "allow-dns"


def _selector(labels: Mapping[str, str]) -> k8s.meta.v1.LabelSelectorArgs:
    return k8s.meta.v1.LabelSelectorArgs(match_labels=dict(labels))


def port(number: int | str, protocol: str = "TCP") -> k8s.networking.v1.NetworkPolicyPortArgs:
    """A port (number or container port name) and protocol."""
    return k8s.networking.v1.NetworkPolicyPortArgs(port=number, protocol=protocol)


def pods(labels: Mapping[str, str]) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    """Pods of the policy's own namespace that carry ``labels``."""
    return k8s.networking.v1.NetworkPolicyPeerArgs(pod_selector=_selector(labels))


def internet() -> k8s.networking.v1.NetworkPolicyPeerArgs:
    """Public IPv4 addresses only: never the metadata server, the link-local range or a private range."""
    return k8s.networking.v1.NetworkPolicyPeerArgs(
        ip_block=k8s.networking.v1.IPBlockArgs(cidr=ANY_IPV4, except_=list(NOT_INTERNET))
    )


def dns_peers() -> list[k8s.networking.v1.NetworkPolicyPeerArgs]:
    """The cluster's resolvers: the kube-dns pods, and GKE's link-local resolvers (Cloud DNS, NodeLocal DNSCache)."""
    return [
        k8s.networking.v1.NetworkPolicyPeerArgs(
            namespace_selector=_selector({NAMESPACE_NAME_LABEL: KUBE_DNS_NAMESPACE}),
            pod_selector=_selector(KUBE_DNS_LABELS),
        ),
        *(
            k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr=cidr))
            for cidr in (METADATA_SERVER, NODE_LOCAL_DNS)
        ),
    ]


def namespace_baseline(
    name: str, namespace: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> list[k8s.networking.v1.NetworkPolicy]:
    """Deny everything to and from every pod of ``namespace``, then let every pod resolve names."""
    labels = app_labels("ollama-fleet", "network-policy")
    everything = k8s.meta.v1.LabelSelectorArgs()
    deny = k8s.networking.v1.NetworkPolicy(
        f"{name}-{DEFAULT_DENY}",
        metadata=meta(DEFAULT_DENY, namespace, labels),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(pod_selector=everything, policy_types=["Ingress", "Egress"]),
        opts=opts,
    )
    dns = k8s.networking.v1.NetworkPolicy(
        f"{name}-{ALLOW_DNS}",
        metadata=meta(ALLOW_DNS, namespace, labels),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=everything,
            policy_types=["Egress"],
            egress=[
                k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                    to=dns_peers(), ports=[port(DNS_PORT, "UDP"), port(DNS_PORT, "TCP")]
                )
            ],
        ),
        opts=opts,
    )
    return [deny, dns]


def ingress_policy(
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    *,
    ports: Sequence[k8s.networking.v1.NetworkPolicyPortArgs],
    sources: Sequence[k8s.networking.v1.NetworkPolicyPeerArgs] = (),
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    """``<app>-ingress``: the workload's pods accept ``ports`` from ``sources`` (from anywhere when empty)."""
    return k8s.networking.v1.NetworkPolicy(
        name,
        metadata=meta(f"{labels['app.kubernetes.io/name']}-ingress", namespace, labels),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=_selector(selector_labels(labels)),
            policy_types=["Ingress"],
            ingress=[k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=list(sources) or None, ports=list(ports))],
        ),
        opts=opts,
    )


def egress_policy(
    name: str,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    *,
    ports: Sequence[k8s.networking.v1.NetworkPolicyPortArgs],
    destinations: Sequence[k8s.networking.v1.NetworkPolicyPeerArgs],
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy:
    """``<app>-egress``: the workload's pods may open ``ports`` on ``destinations`` (and resolve names)."""
    if not destinations:
        raise ValueError("an egress allowance needs its destinations: an empty list would allow every address")
    return k8s.networking.v1.NetworkPolicy(
        name,
        metadata=meta(f"{labels['app.kubernetes.io/name']}-egress", namespace, labels),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=_selector(selector_labels(labels)),
            policy_types=["Egress"],
            egress=[k8s.networking.v1.NetworkPolicyEgressRuleArgs(to=list(destinations), ports=list(ports))],
        ),
        opts=opts,
    )


def isolate_policy(
    name: str, namespace: pulumi.Input[str], labels: Mapping[str, str], opts: pulumi.ResourceOptions
) -> k8s.networking.v1.NetworkPolicy:
    """Nothing in, nothing out, for pods in a namespace the stack does not own (the device plugin in kube-system)."""
    return k8s.networking.v1.NetworkPolicy(
        name,
        metadata=meta(f"{labels['app.kubernetes.io/name']}-isolated", namespace, labels),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=_selector(selector_labels(labels)), policy_types=["Ingress", "Egress"]
        ),
        opts=opts,
    )
