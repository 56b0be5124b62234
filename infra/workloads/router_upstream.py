"""The router's side of external pools: the Secret with their tokens and CA bundles, and its egress to them.

An external pool is an Ollama server outside the cluster; nothing runs for it in the cluster. The router
needs its token (a secret stack value) and its private CA, so both go into one Secret, mounted read-only
into the router's pods at :data:`config.external.UPSTREAM_DIR`, one file per key, at the paths the model
map names. The kubelet updates a mounted Secret's files in place when it changes, and the router reads
a changed file again, so a rotated token needs no restart.

Egress: the router's NetworkPolicy admits each external server's port and nothing else. A server named
by an IP address gets exactly that address (``/32``, or ``/128`` for IPv6). A server named by DNS gets its
port on public IPv4 addresses only (the private, link-local and metadata ranges stay closed), because a
NetworkPolicy selects peers by address and never by name: the address a name resolves to is unknown when
the policy is written and may change at any time
(https://kubernetes.io/docs/concepts/services-networking/network-policies/#what-you-can-t-do-with-network-policies-at-least-not-yet).
Name a server on your LAN by its IP address, or allow its range with a policy of your own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from config.external import ca_key, token_key
from config.stack import PoolSpec
from infra.k8s import network_policy
from infra.k8s.helpers import meta, selector_labels

UPSTREAM_SECRET = "ollama-fleet-router-upstream"


def _token(pool: PoolSpec) -> str | None:
    """The pool's decrypted token, or None; a value still encrypted means the engine was bypassed."""
    external = pool.external
    token = external.token if external is not None else None
    if token is None:
        return None
    if token.value:
        return token.value
    path = f"pools[{pool.name}].external.token"
    raise pulumi.RunError(f"{path} is still encrypted: run the program through `pulumi` so it is decrypted")


def upstream_secret(
    name: str,
    external_pools: Sequence[PoolSpec],
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    parent: pulumi.Resource,
) -> k8s.core.v1.Secret | None:
    """The Secret of the external pools' tokens and CA bundles, or None when no pool has either."""
    values: dict[str, pulumi.Input[str]] = {}
    for pool in external_pools:
        assert pool.external is not None, "external_pools holds external pools only"
        token = _token(pool)
        if token is not None:
            values[token_key(pool.name)] = pulumi.Output.secret(token)
        if pool.external.ca_bundle is not None:
            values[ca_key(pool.name)] = pool.external.ca_bundle
    if not values:
        return None
    return k8s.core.v1.Secret(
        f"{name}-upstream",
        metadata=meta(UPSTREAM_SECRET, namespace, dict(labels)),
        type="Opaque",
        string_data=values,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _peer(pool: PoolSpec) -> k8s.networking.v1.NetworkPolicyPeerArgs:
    external = pool.external
    assert external is not None, "only for external pools"
    address = external.address
    if address is None:
        return network_policy.internet()
    cidr = f"{address}/{address.max_prefixlen}"
    return k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr=cidr))


def upstream_egress(
    name: str,
    external_pools: Sequence[PoolSpec],
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> k8s.networking.v1.NetworkPolicy | None:
    """``<router>-upstream-egress``: the router may open each external server's port, and only that."""
    if not external_pools:
        return None
    rules = []
    for pool in external_pools:
        assert pool.external is not None, "external_pools holds external pools only"
        rules.append(
            k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                to=[_peer(pool)], ports=[network_policy.port(pool.external.port)]
            )
        )
    return k8s.networking.v1.NetworkPolicy(
        name,
        metadata=meta(f"{labels['app.kubernetes.io/name']}-upstream-egress", namespace, dict(labels)),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector_labels(dict(labels))),
            policy_types=["Egress"],
            egress=rules,
        ),
        opts=opts,
    )
