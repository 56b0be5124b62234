"""Where the fleet runs: a GKE cluster the stack creates, or a cluster the user already runs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from config.base import CamelModel
from config.fields import DnsLabel, GkeName
from config.pool import NodeRange


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
