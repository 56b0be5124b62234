"""The stack config: every key of ``Pulumi.<stack>.yaml`` that ollama-fleet reads, with its default.

Keys are camelCase as Pulumi users write them (``ollama-fleet:pools[0].gpusPerNode``). Structure and
single-field constraints live here; rules that need the GPU catalog or several fields at once live in
:mod:`config.rules` and run once, after the structure is valid, so one run reports every problem.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import Discriminator, Field, Tag, WithJsonSchema, field_validator, model_validator

from config.base import CamelModel
from config.gpu_catalog import gpu_info
from config.model_map import Route
from config.names import InvalidModelNameError, canonical_name

PoolName = Annotated[
    str,
    Field(
        pattern=r"^[a-z]([-a-z0-9]*[a-z0-9])?$",
        max_length=30,
        description="Lowercase letters, digits and '-', starting with a letter: it becomes the GKE node "
        "pool, the taint value, the Service ollama-<name> and the backend name.",
    ),
]
DnsLabel = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
GkeName = Annotated[str, Field(pattern=r"^[a-z]([-a-z0-9]*[a-z0-9])?$", max_length=40)]
Quantity = Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")]
DriverVersion = Annotated[str, Field(pattern=r"^[0-9]{3}\.[0-9]{1,3}(\.[0-9]{1,3})?$", description="e.g. 570.124.06")]
DriverPin = Annotated[
    str,
    Field(
        pattern=r"^([0-9]{3}\.[0-9]{1,3}(\.[0-9]{1,3})?|R[0-9]{3})$",
        description="An exact build (570.124.06: Ubuntu nodes, existing clusters) or a branch (R570: COS nodes, "
        "which install the newest build of that branch published for the node's COS image).",
    ),
]
Zone = Annotated[str, Field(pattern=r"^[a-z]+-[a-z]+[0-9]+-[a-z]$", description="e.g. us-central1-a")]
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Cidr = Annotated[str, Field(pattern=r"^[0-9a-fA-F:.]+/[0-9]{1,3}$")]

DEFAULT_OLLAMA_IMAGE = "ollama/ollama:0.32.15"


def _canonical_models(models: list[str]) -> list[str]:
    out: list[str] = []
    for model in models:
        try:
            out.append(canonical_name(model))
        except InvalidModelNameError as error:
            raise ValueError(str(error)) from None
    return out


class NodeRange(CamelModel):
    """Autoscaling bounds of a GKE node pool (whole pool, not per zone)."""

    min: Annotated[int, Field(ge=0)] = 0
    max: Annotated[int, Field(ge=1)] = 1

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max}); lower min or raise max")
        return self


class Taint(CamelModel):
    """A taint the user already put on an existing cluster's nodes; the pool's pods tolerate it."""

    key: Annotated[str, Field(min_length=1)]
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


class OllamaSpec(CamelModel):
    """The Ollama workload of one pool."""

    image: Annotated[str, Field(min_length=1)] = DEFAULT_OLLAMA_IMAGE
    min_driver: DriverVersion | None = Field(
        default=None, description="The driver floor of a non-official image (required for those)."
    )
    replicas: Annotated[int, Field(ge=1)] = 1
    models: list[str] = Field(default_factory=list, description="Pulled once onto each replica's volume.")
    storage: Quantity = "100Gi"
    storage_class: str | None = None
    existing_claim: DnsLabel | None = Field(
        default=None,
        description="Share one existing PersistentVolumeClaim instead of one volume per replica.",
    )
    access_mode: Literal["ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany", "ReadOnlyMany"] = "ReadWriteOnce"
    cpu: Quantity = "2"
    memory: Quantity | None = Field(
        default=None,
        description="Memory request and limit per replica; default: derived from the models (config/memory.py).",
    )
    env: dict[EnvName, str] = Field(default_factory=dict)

    @field_validator("models")
    @classmethod
    def _models(cls, value: list[str]) -> list[str]:
        return _canonical_models(value)


class PoolSpec(CamelModel):
    """One GPU type (or CPU-only) node pool and the Ollama that serves its models."""

    name: PoolName
    gpu: str | None = Field(default=None, description="A GPU catalog key; omit for a CPU-only pool.")
    gpus_per_node: Annotated[int, Field(ge=1, le=16)] = 1
    machine_type: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*-[a-z0-9-]+$")] | None = None
    zones: list[Zone] = Field(default_factory=list)
    node_image: Literal["COS_CONTAINERD", "UBUNTU_CONTAINERD"] = "COS_CONTAINERD"
    driver: DriverPin | None = None
    nodes: NodeRange = NodeRange()
    spot: bool = False
    disk_size_gb: Annotated[int, Field(ge=30)] = 100
    node_selector: dict[str, str] = Field(default_factory=dict)
    taint: Taint | None = None
    ollama: OllamaSpec = OllamaSpec()

    @property
    def effective_machine_type(self) -> str | None:
        """The configured machine type, else the GPU catalog's default for this GPU (None: no default)."""
        if self.machine_type is not None:
            return self.machine_type
        info = gpu_info(self.gpu) if self.gpu else None
        return info.default_machine_type if info else None


class SystemPoolSpec(CamelModel):
    """The small CPU pool for the router and cluster services."""

    machine_type: str = "e2-standard-4"
    nodes: NodeRange = NodeRange(min=1, max=3)


class GkeClusterSpec(CamelModel):
    """A GKE cluster the stack creates."""

    type: Literal["gke"] = "gke"
    name: GkeName = "ollama-fleet"
    location: Annotated[str, Field(pattern=r"^[a-z]+-[a-z]+[0-9]+(-[a-z])?$")] = "us-central1-a"
    kubernetes_version: Annotated[str, Field(pattern=r"^1\.[0-9]{2}$")] = "1.33"
    namespace: DnsLabel = "ollama-fleet"
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"] = "STABLE"
    system_pool: SystemPoolSpec = SystemPoolSpec()
    deletion_protection: bool = True


class ExistingClusterSpec(CamelModel):
    """A cluster the user already runs (a home rig): nothing is created on GCP."""

    type: Literal["existing"]
    name: Annotated[str, Field(min_length=1)] = "ollama-fleet"
    kubernetes_version: Annotated[str, Field(pattern=r"^1\.[0-9]{2}$")] = "1.33"
    namespace: DnsLabel = "ollama-fleet"
    kubeconfig: str | None = "~/.kube/config"
    context: str | None = None
    device_plugin: bool = True
    system_node_selector: dict[str, str] = Field(default_factory=dict)


def _cluster_type(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("type", "gke"))
    return str(getattr(value, "type", "gke"))


ClusterSpec = Annotated[
    Annotated[GkeClusterSpec, Tag("gke")] | Annotated[ExistingClusterSpec, Tag("existing")],
    Discriminator(_cluster_type, custom_error_message="type must be 'gke' or 'existing'"),
]


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

    type: Literal["LoadBalancer", "ClusterIP", "NodePort"] = "LoadBalancer"
    port: Annotated[int, Field(ge=1, le=65535)] = 11434
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

    domains: Annotated[list[Domain], Field(max_length=100)] = Field(default_factory=list)
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

    replicas: Annotated[int, Field(ge=1)] = 2
    image: str | None = Field(default=None, description="A prebuilt image instead of building one.")
    service: ServiceSpec = ServiceSpec()
    allow_anonymous: bool = Field(
        default=False, description="Serve a reachable router without any key instead of generating one."
    )
    allow_insecure_http: bool = Field(
        default=False,
        description="Accept bearer keys in clear text on a public Service (NodePort or external LoadBalancer) "
        "without router.tls, e.g. on a home LAN.",
    )
    tls: TlsSpec | None = None
    api_keys: Secret | None = None
    admin_keys: Secret | None = None

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


class StackConfig(CamelModel):
    """Everything one stack declares. Construct it through :func:`config.loading.validate_stack`."""

    project: str | None = Field(default=None, alias="gcp:project")
    region: str | None = Field(default=None, alias="gcp:region")
    cluster: ClusterSpec = GkeClusterSpec()
    pools: Annotated[list[PoolSpec], Field(min_length=1)]
    routes: list[Route] = Field(default_factory=list, description="Replaces what the pools imply for a model.")
    aliases: dict[str, str] = Field(default_factory=dict)
    default_pool: str | None = None
    router: RouterSpec = RouterSpec()

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, value: dict[str, str]) -> dict[str, str]:
        keys = _canonical_models(list(value))
        return dict(zip(keys, _canonical_models(list(value.values())), strict=True))

    @model_validator(mode="after")
    def _rules(self) -> Self:
        from config.rules import check_stack  # rules need the finished model; imported late to avoid a cycle

        check_stack(self)
        return self

    @property
    def is_gke(self) -> bool:
        """Whether the stack creates its own GKE cluster."""
        return isinstance(self.cluster, GkeClusterSpec)

    def pool(self, name: str) -> PoolSpec | None:
        """The pool called ``name``, if any."""
        return next((pool for pool in self.pools if pool.name == name), None)
