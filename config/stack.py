"""The stack config: every key of ``Pulumi.<stack>.yaml`` that ollama-fleet reads, with its default.

Keys are camelCase as Pulumi users write them (``ollama-fleet:pools[0].gpusPerNode``). Structure and
single-field constraints live here; rules that need the GPU catalog or several fields at once live in
:mod:`config.rules` and run once, after the structure is valid, so one run reports every problem.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import Discriminator, Field, Tag, WithJsonSchema, field_validator, model_validator

from config.base import CamelModel
from config.external import ExternalSpec
from config.gpu_catalog import gpu_info
from config.model_map import Route
from config.model_names import InvalidModelNameError, canonical_name
from config.scaling import ScaleToZeroSpec

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

    min: Annotated[int, Field(ge=0, description="Fewest nodes; 0 lets an idle pool scale to nothing.")] = 0
    max: Annotated[int, Field(ge=1, description="Most nodes the autoscaler may add.")] = 1

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max}); lower min or raise max")
        return self


class Taint(CamelModel):
    """A taint the user already put on an existing cluster's nodes; the pool's pods tolerate it."""

    key: Annotated[str, Field(min_length=1, description="The taint's key, as on the nodes.")]
    value: str = Field(default="", description="The taint's value, as on the nodes.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field(
        default="NoSchedule", description="The taint's effect, as on the nodes."
    )


class OllamaSpec(CamelModel):
    """The Ollama workload of one pool."""

    image: Annotated[str, Field(min_length=1, description="The Ollama container image, pinned.")] = DEFAULT_OLLAMA_IMAGE
    min_driver: DriverVersion | None = Field(
        default=None, description="The driver floor of a non-official image (required for those)."
    )
    replicas: Annotated[int, Field(ge=1, description="Ollama servers in the pool, one per node.")] = 1
    models: list[str] = Field(default_factory=list, description="Pulled once onto each replica's volume.")
    storage: Quantity = Field(default="100Gi", description="Size of each replica's model volume.")
    storage_class: str | None = Field(default=None, description="StorageClass of the volumes (default: the cluster's).")
    existing_claim: DnsLabel | None = Field(
        default=None,
        description="Share one existing PersistentVolumeClaim instead of one volume per replica.",
    )
    access_mode: Literal["ReadWriteOnce", "ReadWriteOncePod", "ReadWriteMany", "ReadOnlyMany"] = Field(
        default="ReadWriteOnce", description="Access mode of the volumes (several replicas on one claim need Many)."
    )
    cpu: Quantity = Field(default="2", description="CPU each Ollama container requests.")
    memory: Quantity | None = Field(
        default=None,
        description="Memory request and limit per replica; default: derived from the models and their runners.",
    )
    env: dict[EnvName, str] = Field(
        default_factory=dict, description="Ollama's environment, e.g. OLLAMA_KEEP_ALIVE, OLLAMA_NUM_PARALLEL."
    )
    supplemental_groups: list[Annotated[int, Field(ge=1)]] = Field(
        default_factory=list,
        description="Host group ids Ollama joins, e.g. the render and video groups that own an AMD node's "
        "/dev/kfd and /dev/dri (getent group render video).",
    )
    scale_to_zero: ScaleToZeroSpec | None = Field(
        default=None, description="The router sleeps the pool (0 replicas) when unused and wakes it on demand."
    )

    @field_validator("models")
    @classmethod
    def _models(cls, value: list[str]) -> list[str]:
        return _canonical_models(value)


class PoolSpec(CamelModel):
    """One GPU type (or CPU-only) node pool and the Ollama that serves its models."""

    name: PoolName
    gpu: str | None = Field(default=None, description="A GPU catalog key; omit for a CPU-only pool.")
    gpus_per_node: Annotated[int, Field(ge=1, le=16, description="GPUs on each node.")] = 1
    machine_type: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*-[a-z0-9-]+$")] | None = Field(
        default=None, description="GKE machine type (default: the GPU catalog's machine for this GPU)."
    )
    zones: list[Zone] = Field(default_factory=list, description="GKE: the zones to run in, where this GPU exists.")
    node_image: Literal["COS_CONTAINERD", "UBUNTU_CONTAINERD"] = Field(
        default="COS_CONTAINERD", description="GKE node image; it decides how the driver is installed."
    )
    driver: DriverPin | None = Field(
        default=None,
        description="Pinned NVIDIA driver: a branch such as R570 on COS, an exact build such as 570.124.06 elsewhere.",
    )
    nodes: NodeRange = Field(default=NodeRange(), description="GKE autoscaling bounds of the whole pool.")
    spot: bool = Field(default=False, description="GKE Spot VMs: cheaper, may be reclaimed at any time.")
    disk_size_gb: Annotated[int, Field(ge=30, description="GKE boot disk of each node, in GB.")] = 100
    node_selector: dict[str, str] = Field(
        default_factory=dict, description="Existing clusters: the labels of this pool's nodes, e.g. {fleet/gpu: k80}."
    )
    taint: Taint | None = Field(default=None, description="Existing clusters: a taint already on those nodes.")
    ollama: OllamaSpec = Field(default=OllamaSpec(), description="The Ollama servers of this pool.")
    external: ExternalSpec | None = Field(
        default=None,
        description="An Ollama server outside the cluster instead of a node pool (no gpu, nodes, driver or ollama).",
    )

    @property
    def models(self) -> list[str]:
        """The models this pool serves: an external server's, or those pulled onto the pool's volumes."""
        return self.external.models if self.external is not None else self.ollama.models

    @property
    def effective_machine_type(self) -> str | None:
        """The configured machine type, else the GPU catalog's default for this GPU (None: no default)."""
        if self.machine_type is not None:
            return self.machine_type
        info = gpu_info(self.gpu) if self.gpu else None
        return info.default_machine_type if info else None


class SystemPoolSpec(CamelModel):
    """The small CPU pool for the router and cluster services."""

    machine_type: str = Field(default="e2-standard-4", description="Machine type of the system pool's nodes.")
    nodes: NodeRange = Field(default=NodeRange(min=1, max=3), description="Autoscaling bounds of the system pool.")


Weekday = Literal["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
_WEEKEND: list[Weekday] = ["SA", "SU"]


class MaintenanceWindowSpec(CamelModel):
    """When GKE may upgrade and repair the cluster: a weekly window in UTC (RFC 5545 weekdays)."""

    days: Annotated[list[Weekday], Field(min_length=1, max_length=7)] = Field(
        default_factory=_WEEKEND.copy, description="Weekdays the window opens on (MO TU WE TH FR SA SU)."
    )
    start_utc: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] = Field(
        default="02:00", description="When the window opens, HH:MM in UTC."
    )
    hours: Annotated[int, Field(ge=1, le=24)] = Field(default=6, description="How long the window stays open.")


class GkeClusterSpec(CamelModel):
    """A GKE cluster the stack creates."""

    type: Literal["gke"] = Field(default="gke", description="gke: the stack creates the cluster.")
    name: GkeName = Field(default="ollama-fleet", description="The GKE cluster's name.")
    location: Annotated[str, Field(pattern=r"^[a-z]+-[a-z]+[0-9]+(-[a-z])?$")] = Field(
        default="us-central1-a", description="A zone (zonal cluster) or a region (regional cluster)."
    )
    kubernetes_version: Annotated[str, Field(pattern=r"^1\.[0-9]{2}$")] | None = Field(
        default=None,
        description="A minor such as 1.35; unset follows the release channel's default (checked at preview).",
    )
    namespace: DnsLabel = Field(default="ollama-fleet", description="Namespace of the router and the pools.")
    release_channel: Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"] = Field(
        default="STABLE", description="GKE release channel the cluster follows."
    )
    maintenance_window: MaintenanceWindowSpec = Field(
        default=MaintenanceWindowSpec(), description="When GKE may upgrade and repair nodes (weekly, UTC)."
    )
    system_pool: SystemPoolSpec = Field(
        default=SystemPoolSpec(), description="The CPU pool for the router and cluster services."
    )
    deletion_protection: bool = Field(default=True, description="GKE refuses to delete the cluster while true.")


class ExistingClusterSpec(CamelModel):
    """A cluster the user already runs (a home rig): nothing is created on GCP."""

    type: Literal["existing"] = Field(description="existing: a cluster you already run.")
    name: Annotated[str, Field(min_length=1, description="A name for the cluster in plans and outputs.")] = (
        "ollama-fleet"
    )
    kubernetes_version: Annotated[str, Field(pattern=r"^1\.[0-9]{2}$")] = Field(
        default="1.33", description="The cluster's Kubernetes minor; the manifests are validated against it."
    )
    namespace: DnsLabel = Field(default="ollama-fleet", description="Namespace of the router and the pools.")
    kubeconfig: str | None = Field(default="~/.kube/config", description="The kubeconfig file to deploy with.")
    context: str | None = Field(default=None, description="A kubeconfig context (default: its current one).")
    device_plugin: bool = Field(default=True, description="Deploy NVIDIA's device plugin on the GPU nodes.")
    system_node_selector: dict[str, str] = Field(
        default_factory=dict, description="Labels of the nodes the router runs on (default: any node)."
    )


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


class StackConfig(CamelModel):
    """Everything one stack declares. Construct it through :func:`config.loading.validate_stack`."""

    project: str | None = Field(default=None, alias="gcp:project", description="GCP project (required for GKE).")
    region: str | None = Field(default=None, alias="gcp:region", description="GCP region of the provider.")
    cluster: ClusterSpec = Field(
        default=GkeClusterSpec(),
        description="The cluster: one the stack creates (gke) or yours (existing); keys below.",
    )
    pools: Annotated[list[PoolSpec], Field(min_length=1, description="One pool per GPU type (or CPU only).")]
    routes: list[Route] = Field(default_factory=list, description="Replaces what the pools imply for a model.")
    aliases: dict[str, str] = Field(default_factory=dict, description="Extra names for served models.")
    default_pool: str | None = Field(default=None, description="Where unknown models go instead of a 404.")
    router: RouterSpec = Field(default=RouterSpec(), description="The router in front of the pools.")

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

    @property
    def cluster_pools(self) -> list[PoolSpec]:
        """The pools that run in the cluster (node pool, driver, Ollama workload)."""
        return [pool for pool in self.pools if pool.external is None]

    @property
    def external_pools(self) -> list[PoolSpec]:
        """The pools that are Ollama servers outside the cluster."""
        return [pool for pool in self.pools if pool.external is not None]

    def pool(self, name: str) -> PoolSpec | None:
        """The pool called ``name``, if any."""
        return next((pool for pool in self.pools if pool.name == name), None)
