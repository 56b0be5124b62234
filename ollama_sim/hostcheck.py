"""Ollama's ``allowedHostsMiddleware`` (in ``server/routes.go``): DNS-rebinding protection on loopback listeners.

When the server listens on a loopback address, a request whose ``Host`` is not empty, ``localhost``, the
machine's hostname, a ``*.localhost``/``*.local``/``*.internal`` name, or a loopback, private, unspecified
or local-interface IP gets 403 with no body. The port is split off the way Go's ``net.SplitHostPort``
does, so ``[::1]`` without a port is refused exactly as Ollama refuses it.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache

_PRIVATE = tuple(ipaddress.ip_network(cidr) for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
_LOCAL_TLDS = (".localhost", ".local", ".internal")


def listener_is_loopback(host: str) -> bool:
    """Whether a listener on ``host`` is loopback-only, which is when Ollama checks ``Host``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _split_host_port(header: str) -> str:
    """The host part as ``net.SplitHostPort`` gives it, or the whole header when Go's split fails."""
    if header.startswith("["):
        end = header.find("]")
        if end > 0 and header[end + 1 : end + 2] == ":" and header.count(":", end + 2) == 0:
            return header[1:end]
        return header
    if header.count(":") == 1:
        return header.partition(":")[0]
    return header


@lru_cache(maxsize=1)
def _local_addresses() -> frozenset[str]:
    """Addresses of this machine's hostname (Ollama's ``isLocalIP`` walks the interfaces)."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None)
    except OSError:
        return frozenset()
    return frozenset(str(info[4][0]) for info in infos)


def _ip_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback or address.is_unspecified:
        return True
    if any(address in network for network in _PRIVATE if network.version == address.version):
        return True
    return str(address) in _local_addresses()


@lru_cache(maxsize=4096)
def host_allowed(header: str) -> bool:
    """Whether Ollama on a loopback listener serves a request with this ``Host`` header."""
    host = _split_host_port(header)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and _ip_allowed(address):
        return True
    host = host.lower()
    if host in ("", "localhost") or host == socket.gethostname().lower():
        return True
    return host.endswith(_LOCAL_TLDS)
