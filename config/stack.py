"""The stack config: every key of ``Pulumi.<stack>.yaml`` that ollama-fleet reads, with its default.

Keys are camelCase as Pulumi users write them (``ollama-fleet:pools[0].gpusPerNode``). Structure and
single-field constraints live here; rules that need the GPU catalog or several fields at once live in
:mod:`config.rules` and run once, after the structure is valid, so one run reports every problem.
"""

from typing import Annotated, Self

from pydantic import Field, field_validator, model_validator

from config.base import CamelModel
from config.cluster import (
    ClusterSpec,
    ExistingClusterSpec,
    GkeClusterSpec,
    MaintenanceWindowSpec,
    SystemPoolSpec,
)
from config.fields import Cidr, DnsLabel, DriverPin, DriverVersion, EnvName, GkeName, PoolName, Quantity, Zone
from config.model_map import Route
from config.pool import DEFAULT_OLLAMA_IMAGE, NodeRange, OllamaSpec, PoolSpec, Taint, canonical_models
from config.router_spec import RouterSpec, SecretKeys, ServiceSpec, TlsSpec

__all__ = [
    "DEFAULT_OLLAMA_IMAGE",
    "Cidr",
    "ClusterSpec",
    "DnsLabel",
    "DriverPin",
    "DriverVersion",
    "EnvName",
    "ExistingClusterSpec",
    "GkeClusterSpec",
    "GkeName",
    "MaintenanceWindowSpec",
    "NodeRange",
    "OllamaSpec",
    "PoolName",
    "PoolSpec",
    "Quantity",
    "RouterSpec",
    "SecretKeys",
    "ServiceSpec",
    "StackConfig",
    "SystemPoolSpec",
    "Taint",
    "TlsSpec",
    "Zone",
]


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
        keys = canonical_models(list(value))
        return dict(zip(keys, canonical_models(list(value.values())), strict=True))

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
