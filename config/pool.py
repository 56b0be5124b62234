"""A pool: one kind of node (a GPU type, or CPU only) or a server outside the cluster, and its Ollama."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator

from config.base import CamelModel
from config.external import ExternalSpec
from config.fields import DnsLabel, DriverPin, DriverVersion, EnvName, PoolName, Quantity, Zone
from config.gpu_catalog import gpu_info
from config.model_names import InvalidModelNameError, canonical_name
from config.scaling import ScaleToZeroSpec

DEFAULT_OLLAMA_IMAGE = "ollama/ollama:0.32.15"


def canonical_models(models: list[str]) -> list[str]:
    """Model names in Ollama's canonical form; a bad name is a validation error."""
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
        return canonical_models(value)


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
