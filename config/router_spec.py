"""The router's stack keys: replicas, image, how it is exposed, TLS, and its keys (secrets)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import Field, WithJsonSchema, model_validator

from config.base import CamelModel
from config.fields import Cidr, DnsLabel

_SECRET_SCHEMA: dict[str, Any] = {
    "description": "Set with `pulumi config set --secret --path router.apiKeys 'key1,key2'`.",
    "anyOf": [
        {"type": "object", "properties": {"secure": {"type": "string"}}, "required": ["secure"]},
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}},
    ],
}


class SecretKeys(CamelModel):
    """Bearer keys: encrypted in the stack file, decrypted only by Pulumi. ``repr`` never shows them."""

    ciphertext: str | None = None
    values: tuple[str, ...] = Field(default=(), repr=False)

    @model_validator(mode="before")
    @classmethod
    def _from_config(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"values": tuple(key.strip() for key in value.split(",") if key.strip())}
        if isinstance(value, list):
            return {"values": tuple(str(key).strip() for key in value)}
        if isinstance(value, dict) and set(value) == {"secure"}:
            return {"ciphertext": value["secure"]}
        return value


Secret = Annotated[SecretKeys, WithJsonSchema(_SECRET_SCHEMA)]


class ServiceSpec(CamelModel):
    """How the router's Service is exposed: ``ClusterIP`` stays in the cluster, the others reach beyond it."""

    type: Literal["LoadBalancer", "ClusterIP", "NodePort"] = Field(
        default="LoadBalancer", description="The router Service's type."
    )
    port: Annotated[int, Field(ge=1, le=65535, description="The port clients connect to.")] = 11434
    source_ranges: list[Cidr] = Field(
        default_factory=list, description="Client ranges a LoadBalancer admits (loadBalancerSourceRanges)."
    )
    internal: bool = Field(
        default=False, description="A LoadBalancer reachable from the VPC only (GKE's internal passthrough balancer)."
    )

    @property
    def public(self) -> bool:
        """Plain HTTP on an address beyond the cluster's network: a NodePort, or an external LoadBalancer."""
        return self.type == "NodePort" or (self.type == "LoadBalancer" and not self.internal)


Domain = Annotated[
    str,
    Field(
        pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$",
        max_length=253,
        description="A fully qualified host name in lowercase, no wildcard, e.g. ollama.example.org.",
    ),
]


class TlsSpec(CamelModel):
    """HTTPS for the router through an Ingress: a Google-managed certificate for ``domains`` (GKE) or your own.

    Without ``secretName`` the certificate is Google-managed (GKE only): point each domain's A record at
    the stack output ``routerAddress``. With ``secretName`` the Ingress serves your ``kubernetes.io/tls``
    Secret (e.g. one cert-manager keeps renewed); ``domains`` then names the hosts it answers for.
    """

    domains: Annotated[list[Domain], Field(max_length=100)] = Field(
        default_factory=list, description="Host names the certificate covers and the Ingress answers for."
    )
    secret_name: DnsLabel | None = Field(
        default=None, description="A kubernetes.io/tls Secret in the fleet's namespace, managed by you."
    )
    ingress_class_name: DnsLabel | None = Field(
        default=None, description="Existing clusters: your ingress controller's IngressClass (default: the cluster's)."
    )

    @model_validator(mode="after")
    def _some_certificate(self) -> Self:
        if not self.domains and self.secret_name is None:
            raise ValueError(
                "names no certificate: set domains (a Google-managed certificate, GKE) or secretName (your own)"
            )
        duplicates = sorted({domain for domain in self.domains if self.domains.count(domain) > 1})
        if duplicates:
            raise ValueError(f"lists {', '.join(duplicates)} more than once")
        return self

    @property
    def google_managed(self) -> bool:
        """Whether GKE provisions the certificate (no Secret of the user's)."""
        return self.secret_name is None


class RouterSpec(CamelModel):
    """The router's Deployment, Service and access settings."""

    replicas: Annotated[int, Field(ge=1, description="Router pods at least; CPU load adds more.")] = 2
    image: str | None = Field(default=None, description="A prebuilt image instead of building one.")
    service: ServiceSpec = Field(default=ServiceSpec(), description="How the router is reached.")
    allow_anonymous: bool = Field(
        default=False, description="Serve a reachable router without any key instead of generating one."
    )
    allow_insecure_http: bool = Field(
        default=False,
        description="Accept bearer keys in clear text on a public Service (NodePort or external LoadBalancer) "
        "without router.tls, e.g. on a home LAN.",
    )
    tls: TlsSpec | None = Field(default=None, description="HTTPS through an Ingress (unset: no HTTPS).")
    api_keys: Secret | None = Field(default=None, description="Secret bearer keys for inference (unset: generated).")
    admin_keys: Secret | None = Field(default=None, description="Secret bearer keys for pull, push, create, delete.")

    @property
    def exposed(self) -> bool:
        """Reachable from outside the cluster: a NodePort or LoadBalancer Service, or an HTTPS Ingress."""
        return self.service.type != "ClusterIP" or self.tls is not None

    @property
    def generates_key(self) -> bool:
        """Whether the stack generates an API key: exposed, no keys configured, anonymous access not chosen."""
        return self.api_keys is None and self.exposed and not self.allow_anonymous

    @property
    def uses_keys(self) -> bool:
        """Whether clients send bearer keys at all (configured API or admin keys, or a generated one)."""
        return self.api_keys is not None or self.admin_keys is not None or self.generates_key
