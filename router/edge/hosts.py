"""Which ``Host`` headers the router answers: its guard against DNS rebinding.

A web page can reach a server only its visitor can reach (on loopback, or on a private network) by
rebinding a domain it controls to that server's address: the browser then sends the page's own domain as
``Host`` and treats the answers as same-origin. Ollama refuses unknown Host headers on loopback listeners
for this reason (``allowedHost`` in https://github.com/ollama/ollama/blob/main/server/routes.go, after
CVE-2024-28224). The router does the same, configurably: ``FLEET_ALLOWED_HOSTS`` lists the host names it
answers to (any port; ``*.example.org`` matches a domain's subdomains, ``*`` anything). Unset, a router
bound to a loopback address answers ``localhost``, ``127.0.0.1`` and ``[::1]``, and one bound elsewhere
answers any Host, as before. Other requests get 403 before anything else is looked at, except the probe
paths ``/healthz`` and ``/readyz``: kubelet and Google Cloud load-balancer health checks send the pod's IP
as Host (https://cloud.google.com/load-balancing/docs/health-check-concepts#criteria-protocol-http), which
no list can know in advance, and those paths reveal nothing a rebinding page could use.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
PROBE_PATHS = frozenset({"/healthz", "/readyz"})


def is_loopback(address: str) -> bool:
    """Whether a listen address is a loopback one (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    if address.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(host: bytes) -> str:
    """The name part of a ``Host`` header: lower case, port, brackets and a final dot removed."""
    text = host.decode("latin-1").strip().lower()
    if not text.startswith("["):
        return text.partition(":")[0].removesuffix(".")
    return text[1:].partition("]")[0]


class HostPolicy:
    """The Host names a router answers to, from ``FLEET_ALLOWED_HOSTS`` and its listen address."""

    def __init__(self, allowed: Sequence[str], listen_host: str) -> None:
        names = [name.strip().lower().strip("[]").removesuffix(".") for name in allowed if name.strip()]
        if not names:
            names = list(LOOPBACK_NAMES) if is_loopback(listen_host) else ["*"]
        self.any = "*" in names
        self.exact = frozenset(name for name in names if not name.startswith("*."))
        self.suffixes = tuple(name[1:] for name in names if name.startswith("*."))

    def allows(self, path: str, host: bytes | None) -> bool:
        """Whether a request for ``path`` with this ``Host`` is answered."""
        if self.any or path in PROBE_PATHS:
            return True
        if host is None:
            return False
        name = host_name(host)
        return name in self.exact or (bool(self.suffixes) and name.endswith(self.suffixes))
