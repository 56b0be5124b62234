"""Rules for external pools: nothing of a cluster pool, and no bearer token in clear text on the internet."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from config.errors import Problem
from config.external import ExternalSpec
from config.model_names import model_key
from config.stack import PoolSpec

POOL_ONLY_KEYS = frozenset({"name", "external"})
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(cidr)
    for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7", "127.0.0.0/8", "::1/128")
)
"""Addresses of a network the user runs: RFC 1918 and IPv6 unique local LANs, loopback, and the RFC 6598 shared
range that carrier-grade NAT and overlay VPNs such as Tailscale use (https://tailscale.com/kb/1015/100.x-addresses)."""


def external_pool_problems(pool: PoolSpec, at: str) -> Iterator[Problem]:
    """Problems of a pool with ``external:``; ``at`` is its config path (``pools[3]``)."""
    for field in sorted(pool.model_fields_set - POOL_ONLY_KEYS):
        key = PoolSpec.model_fields[field].alias or field
        yield Problem(
            f"{at}.{key}",
            f"an external pool is a server outside the cluster: it has no {key} (no node pool, driver or workload)",
            f"remove {key}, or remove external to run this pool in the cluster",
        )
    external = pool.external
    if external is None:
        return
    keys = [model_key(model) for model in external.models]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            yield Problem(f"{at}.external.models[{i}]", f"{external.models[i]!r} is listed twice", "remove one")
    yield from _transport_problems(external, at)


def _transport_problems(external: ExternalSpec, at: str) -> Iterator[Problem]:
    """A token over plain HTTP is given away, unless the server is a private address on a network you trust."""
    address = external.address
    private = address is not None and any(address in network for network in PRIVATE_NETWORKS)
    if external.token is not None and not external.https and not private:
        yield Problem(
            f"{at}.external.url",
            f"{external.url!r} would carry the bearer token in clear text: http:// to a host that is not an "
            "address of a private network (RFC 1918, RFC 6598, IPv6 unique local)",
            "use https:// (a reverse proxy with a certificate in front of Ollama; caBundle for a private CA), "
            "or name the server by its private IP on a network you trust",
        )
    if external.ca_bundle is not None and not external.https:
        yield Problem(
            f"{at}.external.caBundle",
            f"only applies to https://, and the URL is {external.url!r}",
            "use an https:// URL, or remove caBundle",
        )
