"""The router's HTTPS door: an Ingress in front of its (then in-cluster) Service, when ``router.tls`` is set.

Why an Ingress and not a Gateway: GKE's Google-managed certificates (``ManagedCertificate``) work with
GKE Ingress only; a Gateway needs Certificate Manager (a certificate map, and a DNS authorization record
before anything is issued) and the Gateway API switched on for the cluster. And one Ingress object serves
both cluster kinds: on an existing cluster the same Ingress carries the user's certificate Secret.

GKE: GKE's own Ingress (an external Application Load Balancer) on a reserved global address
(``routerAddress``: point the domains' A records at it; the certificate is provisioned once they do), HTTP
switched off entirely, TLS 1.2+ only (an SSL policy through a FrontendConfig), the router's ``/readyz`` as
health check, and a response timeout long enough for streamed answers — the balancer's default, 30 s,
would cut every long generation (BackendConfig). The Service becomes a container-native backend (NEG),
so the balancer talks to the router's pods directly.

Existing cluster: a standard Ingress for the user's controller (``tls.ingressClassName``, or the
cluster's default class) serving ``tls.secretName``. The controller must exist; whether it also listens
on plain HTTP (usually to redirect) is its own setting.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from config.stack import TlsSpec
from infra.gcp.gke import GcpSite
from infra.k8s.custom_resources import (
    BACKEND_CONFIG,
    FRONTEND_CONFIG,
    MANAGED_CERTIFICATE,
    BackendConfigSpec,
    FrontendConfigSpec,
    ManagedCertificateSpec,
    custom_resource,
)
from infra.k8s.helpers import ROUTER_APP, SKIP_AWAIT, meta
from infra.workloads.router_pod import GRACE_SECONDS, PORT_NAME, READINESS_PATH

GKE_INGRESS_CLASS = "gce"
RESPONSE_TIMEOUT_SECONDS = 3600
"""The balancer's limit on one whole response: an hour covers a cold model load and a long stream."""
SSL_PROFILE, MIN_TLS = "MODERN", "TLS_1_2"
INGRESS_CLASS = "kubernetes.io/ingress.class"
ALLOW_HTTP = "kubernetes.io/ingress.allow-http"
STATIC_IP = "kubernetes.io/ingress.global-static-ip-name"
MANAGED_CERTIFICATES = "networking.gke.io/managed-certificates"
FRONTEND = "networking.gke.io/v1beta1.FrontendConfig"
NEG = "cloud.google.com/neg"
BACKEND = "cloud.google.com/backend-config"


@dataclass(frozen=True, slots=True)
class HttpsEntry:
    """Where clients reach the router over HTTPS, and the address its domains must point at (GKE)."""

    url: pulumi.Output[str | None]
    address: pulumi.Output[str] | None


def behind_gke_ingress(tls: TlsSpec | None, site: GcpSite | None) -> bool:
    """Whether the router sits behind GKE's Ingress (``router.tls`` on a GKE stack, which has a site)."""
    return tls is not None and site is not None


def service_annotations(tls: TlsSpec | None, site: GcpSite | None) -> dict[str, str]:
    """Behind GKE's Ingress the Service is a container-native backend (NEG) with the router's BackendConfig."""
    if not behind_gke_ingress(tls, site):
        return {}
    return {NEG: json.dumps({"ingress": True}), BACKEND: json.dumps({"default": ROUTER_APP})}


def backend_config(
    name: str,
    tls: TlsSpec | None,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    *,
    site: GcpSite | None,
    port: int,
    parent: pulumi.Resource,
) -> list[pulumi.Resource]:
    """GKE: how the balancer treats the router's pods (declared before the Service that names it)."""
    if not behind_gke_ingress(tls, site):
        return []
    spec: BackendConfigSpec = {
        "timeoutSec": RESPONSE_TIMEOUT_SECONDS,
        "connectionDraining": {"drainingTimeoutSec": GRACE_SECONDS},
        "healthCheck": {
            "type": "HTTP",
            "requestPath": READINESS_PATH,
            "port": port,
            "checkIntervalSec": 10,
            "timeoutSec": 5,
        },
    }
    metadata = meta(ROUTER_APP, namespace, labels)
    return [custom_resource(f"{name}-backend-config", BACKEND_CONFIG, metadata, spec, _child(parent))]


def https_entry(
    name: str,
    tls: TlsSpec,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    service: k8s.core.v1.Service,
    *,
    site: GcpSite | None,
    apis: Sequence[pulumi.Resource],
    parent: pulumi.Resource,
) -> HttpsEntry:
    """The Ingress (and on GKE, which has a ``site``, its address, certificate and TLS policy) for ``router.tls``."""
    annotations = {SKIP_AWAIT: "true"}
    depends: list[pulumi.Resource] = []
    address: pulumi.Output[str] | None = None
    if site is not None:
        gke, address = _gke_front(name, site, namespace, labels, tls, apis=apis, parent=parent)
        annotations |= gke.annotations
        depends += gke.resources
    backend = k8s.networking.v1.IngressBackendArgs(
        service=k8s.networking.v1.IngressServiceBackendArgs(
            name=service.metadata.apply(lambda m: str(m.name)),
            port=k8s.networking.v1.ServiceBackendPortArgs(name=PORT_NAME),
        )
    )
    path = k8s.networking.v1.HTTPIngressPathArgs(path="/", path_type="Prefix", backend=backend)
    rule_value = k8s.networking.v1.HTTPIngressRuleValueArgs(paths=[path])
    rules = [k8s.networking.v1.IngressRuleArgs(host=host, http=rule_value) for host in tls.domains] or [
        k8s.networking.v1.IngressRuleArgs(http=rule_value)
    ]
    secret_tls = (
        [k8s.networking.v1.IngressTLSArgs(hosts=list(tls.domains) or None, secret_name=tls.secret_name)]
        if tls.secret_name
        else None
    )
    ingress = k8s.networking.v1.Ingress(
        f"{name}-https",
        metadata=meta(ROUTER_APP, namespace, labels, annotations),
        spec=k8s.networking.v1.IngressSpecArgs(ingress_class_name=tls.ingress_class_name, tls=secret_tls, rules=rules),
        opts=_child(parent, *depends),
    )
    if tls.domains:
        return HttpsEntry(pulumi.Output.from_input(f"https://{tls.domains[0]}"), address)
    return HttpsEntry(ingress.status.apply(_ingress_url), address)


@dataclass(frozen=True, slots=True)
class _GkeFront:
    annotations: dict[str, str]
    resources: list[pulumi.Resource]


def _gke_front(
    name: str,
    site: GcpSite,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    tls: TlsSpec,
    *,
    apis: Sequence[pulumi.Resource],
    parent: pulumi.Resource,
) -> tuple[_GkeFront, pulumi.Output[str]]:
    """A reserved global address, an SSL policy (TLS 1.2+), and the Google-managed certificate if asked for."""
    project, prefix = site.project, f"{site.cluster_name}-router"
    gcp_opts = _child(parent, *apis)
    address = gcp.compute.GlobalAddress(
        f"{name}-address", name=prefix, project=project, description="ollama-fleet router (HTTPS)", opts=gcp_opts
    )
    policy = gcp.compute.SSLPolicy(
        f"{name}-ssl-policy", name=prefix, project=project, profile=SSL_PROFILE, min_tls_version=MIN_TLS, opts=gcp_opts
    )
    metadata = meta(ROUTER_APP, namespace, labels)
    frontend: FrontendConfigSpec = {"sslPolicy": prefix}
    resources: list[pulumi.Resource] = [
        address,
        policy,
        custom_resource(f"{name}-frontend-config", FRONTEND_CONFIG, metadata, frontend, _child(parent, policy)),
    ]
    annotations = {INGRESS_CLASS: GKE_INGRESS_CLASS, ALLOW_HTTP: "false", STATIC_IP: prefix, FRONTEND: ROUTER_APP}
    if tls.google_managed:
        certificate: ManagedCertificateSpec = {"domains": list(tls.domains)}
        resources.append(
            custom_resource(f"{name}-certificate", MANAGED_CERTIFICATE, metadata, certificate, _child(parent))
        )
        annotations[MANAGED_CERTIFICATES] = ROUTER_APP
    ip: pulumi.Output[str] = address.address
    return _GkeFront(annotations, resources), ip


def _child(parent: pulumi.Resource, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on) or None)


def _ingress_url(status: k8s.networking.v1.outputs.IngressStatus | None) -> str | None:
    found = status.load_balancer.ingress if status and status.load_balancer else None
    if not found:
        return None
    return f"https://{found[0].ip or found[0].hostname}"
