"""How the router may be exposed: keys never cross a public address in clear text, TLS names GKE accepts."""

from __future__ import annotations

from collections.abc import Iterator

from config.errors import Problem
from config.stack import StackConfig, TlsSpec

MANAGED_CERT_DOMAIN_LENGTH = 63
"""GKE's ManagedCertificate refuses a domain name longer than this."""


def router_problems(stack: StackConfig) -> Iterator[Problem]:
    """How the router is exposed: bearer keys never cross a public address in clear text unless opted out.

    Ollama's API has no authentication and its model-management routes have a history of remote
    exploits (CVE-2024-37032 through ``/api/pull``: https://pkg.go.dev/vuln/GO-2024-2901), so the router's
    keys are the fleet's only lock: a key sent over plain HTTP on the internet is a key given away.
    """
    router = stack.router
    service = router.service
    if service.public and router.uses_keys and not router.allow_insecure_http:
        yield _clear_text_problem(stack)
    if service.source_ranges and service.type != "LoadBalancer":
        yield Problem(
            "router.service.sourceRanges",
            f"only a LoadBalancer Service applies them; a {service.type} Service would admit every client",
            "use type: LoadBalancer, or remove sourceRanges",
        )
    if service.internal and service.type != "LoadBalancer":
        yield Problem(
            "router.service.internal",
            f"only a LoadBalancer can be internal; a {service.type} Service ignores it",
            "use type: LoadBalancer (GKE's internal balancer), or type: ClusterIP to stay in the cluster",
        )
    if router.tls is not None:
        yield from _tls_problems(stack, router.tls)


def _clear_text_problem(stack: StackConfig) -> Problem:
    service = stack.router.service
    where = "an external LoadBalancer" if service.type == "LoadBalancer" else "a NodePort on every node"
    opt_out = "or accept clear text explicitly with router.allowInsecureHttp: true (a trusted LAN only)"
    if stack.router.tls is None:
        if stack.is_gke:
            https = "set router.tls.domains: [<a name you own>] (a Google-managed certificate)"
            private = "service.internal: true, or type: ClusterIP"
        else:
            https = "set router.tls.secretName (your certificate, served by your ingress controller)"
            private = "type: ClusterIP"
        return Problem(
            "router.tls",
            f"is not set, so the router's bearer keys would travel in clear text over HTTP to {where}",
            f"{https} with router.service.type: ClusterIP; or keep the Service private ({private}); {opt_out}",
        )
    return Problem(
        "router.tls",
        f"serves HTTPS through an Ingress, but router.service ({service.type}) still serves plain HTTP on {where}",
        f"set router.service.type: ClusterIP (or service.internal: true): the Ingress is the public door; {opt_out}",
    )


def _tls_problems(stack: StackConfig, tls: TlsSpec) -> Iterator[Problem]:
    if tls.google_managed and not stack.is_gke:
        yield Problem(
            "router.tls.domains",
            "a Google-managed certificate needs GKE's ManagedCertificate controller, which an existing cluster lacks",
            "set router.tls.secretName to a kubernetes.io/tls Secret you manage (e.g. issued by cert-manager)",
        )
    if tls.google_managed:
        for i, domain in enumerate(tls.domains):
            if len(domain) > MANAGED_CERT_DOMAIN_LENGTH:
                yield Problem(
                    f"router.tls.domains[{i}]",
                    f"{domain!r} is longer than the {MANAGED_CERT_DOMAIN_LENGTH} characters a Google-managed "
                    "certificate accepts",
                    "use a shorter name, or your own certificate (router.tls.secretName)",
                )
    if tls.ingress_class_name is not None and stack.is_gke:
        yield Problem(
            "router.tls.ingressClassName",
            "a GKE stack always uses GKE's own Ingress (class gce)",
            "remove ingressClassName (it is for an existing cluster's ingress controller)",
        )
