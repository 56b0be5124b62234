"""The GCP side of a ``type: gke`` cluster: APIs, VPC, node identity, the cluster and its system pool.

Functions here declare resources for the :class:`~infra.gcp.cluster.Cluster` component and receive it as
``parent``; they exist to keep that component short, not to be reused elsewhere.

How GPU pools survive upgrades: GKE refuses ``auto_upgrade=false`` on node pools of a cluster enrolled in a
release channel, and it upgrades every cluster at a minor's end of support whatever exclusion it carries
(https://cloud.google.com/kubernetes-engine/docs/concepts/maintenance-windows-and-exclusions). Holding all
node upgrades would also hold security patches of the system and CPU pools, for nothing. So nothing is held:
upgrades happen in the configured weekly window (``cluster.maintenanceWindow``), one surge node at a time
with no node taken away first, and a new GPU node is only used once the pool's own driver installer has
built the pinned driver for its new kernel and the driver gate has seen it load (Ollama pods wait for it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import pulumi
import pulumi_gcp as gcp

from config.k8s_names import SYSTEM_POOL
from config.stack import GkeClusterSpec, MaintenanceWindowSpec

APIS = ("compute", "container", "artifactregistry", "iam", "cloudresourcemanager")
"""Every API the program's resources call: VPC and addresses (compute), cluster and pools (container), image
repositories (artifactregistry), the node service account (iam), project IAM bindings (cloudresourcemanager).
``serviceusage`` (which enabling uses) and ``cloudresourcemanager`` must be on before the first run."""
NODE_ROLES = ("roles/container.defaultNodeServiceAccount", "roles/artifactregistry.reader")
"""GKE's least-privilege node role (logs, metrics, autoscaling metrics, resource metadata:
https://cloud.google.com/kubernetes-engine/docs/how-to/service-accounts#default-gke-service-agent) and reading
the stack's image repositories."""
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
SYSTEM_ROLE_LABEL = "ollama-fleet/role"
NODE_RANGE, POD_RANGE, SERVICE_RANGE = "10.10.0.0/20", "10.16.0.0/14", "10.20.0.0/20"
WINDOW_SINCE = datetime(2025, 1, 4)
"""A fixed first day for the weekly window: a moving one (``now``) would show a diff on every preview."""


@dataclass(frozen=True, slots=True)
class GkeBase:
    """What the node pools and the router need from the GCP side."""

    cluster: gcp.container.Cluster
    location: str
    node_account_email: pulumi.Output[str]
    node_roles: list[gcp.projects.IAMMember]
    apis: list[gcp.projects.Service]
    docker_hub: str | None = None
    """The Docker Hub remote repository's address, which GKE pools pull Docker Hub images through."""
    registry: tuple[pulumi.Resource, ...] = ()
    """What must exist before a pod pulls through ``docker_hub``: the repository and the nodes' reader role."""


@dataclass(frozen=True, slots=True)
class GcpSite:
    """Where a GKE stack's own GCP resources beside the cluster go (the router's image and HTTPS front)."""

    project: str
    region: str
    cluster_name: str
    """The GKE cluster's name, which the router's GCP resources are named after."""


def region_of(spec: GkeClusterSpec, region: str | None) -> str:
    """The region: ``gcp:region`` when set, else the location's region (``us-central1-a`` → ``us-central1``)."""
    if region:
        return region
    parts = spec.location.split("-")
    return "-".join(parts[:2])


def enable_apis(name: str, project: str, parent: pulumi.Resource) -> list[gcp.projects.Service]:
    """The project services the stack uses; left enabled on destroy, other things may need them."""
    return [
        gcp.projects.Service(
            f"{name}-{api}-api",
            project=project,
            service=f"{api}.googleapis.com",
            disable_on_destroy=False,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for api in APIS
    ]


def network(
    name: str,
    spec: GkeClusterSpec,
    project: str,
    *,
    region: str,
    after: list[gcp.projects.Service],
    parent: pulumi.Resource,
) -> gcp.compute.Subnetwork:
    """A dedicated VPC with a subnet whose secondary ranges make the cluster VPC-native (alias IPs)."""
    vpc = gcp.compute.Network(
        f"{name}-vpc",
        name=spec.name,
        project=project,
        auto_create_subnetworks=False,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=after),
    )
    return gcp.compute.Subnetwork(
        f"{name}-subnet",
        name=f"{spec.name}-nodes",
        project=project,
        region=region,
        network=vpc.id,
        ip_cidr_range=NODE_RANGE,
        private_ip_google_access=True,
        secondary_ip_ranges=[
            gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name="pods", ip_cidr_range=POD_RANGE),
            gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name="services", ip_cidr_range=SERVICE_RANGE),
        ],
        opts=pulumi.ResourceOptions(parent=parent),
    )


def node_identity(
    name: str, spec: GkeClusterSpec, project: str, *, after: list[gcp.projects.Service], parent: pulumi.Resource
) -> tuple[pulumi.Output[str], list[gcp.projects.IAMMember]]:
    """A node service account with only what nodes need: GKE's node role and reading images."""
    account_id = f"{spec.name}-nodes"[:30].rstrip("-")
    account = gcp.serviceaccount.Account(
        f"{name}-nodes",
        account_id=account_id,
        project=project,
        display_name=f"ollama-fleet nodes of {spec.name}",
        opts=pulumi.ResourceOptions(parent=parent, depends_on=after),
    )
    email: pulumi.Output[str] = account.email
    members = [
        gcp.projects.IAMMember(
            f"{name}-nodes-{role.split('/')[1].replace('.', '-').lower()}",
            project=project,
            role=role,
            member=pulumi.Output.concat("serviceAccount:", email),
            opts=pulumi.ResourceOptions(parent=parent, depends_on=after),
        )
        for role in NODE_ROLES
    ]
    return email, members


def maintenance_policy(window: MaintenanceWindowSpec) -> gcp.container.ClusterMaintenancePolicyArgs:
    """A weekly window (RFC 5545 recurrence) on fixed dates, so previews stay without a diff."""
    hour, minute = (int(part) for part in window.start_utc.split(":"))
    start = WINDOW_SINCE.replace(hour=hour, minute=minute)
    end = start + timedelta(hours=window.hours)
    return gcp.container.ClusterMaintenancePolicyArgs(
        recurring_window=gcp.container.ClusterMaintenancePolicyRecurringWindowArgs(
            start_time=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            end_time=end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            recurrence=f"FREQ=WEEKLY;BYDAY={','.join(window.days)}",
        )
    )


def cluster(
    name: str,
    spec: GkeClusterSpec,
    project: str,
    subnet: gcp.compute.Subnetwork,
    *,
    after: list[gcp.projects.Service],
    parent: pulumi.Resource,
) -> gcp.container.Cluster:
    """VPC-native, Dataplane V2 (NetworkPolicies enforced), Workload Identity, no default node pool."""
    return gcp.container.Cluster(
        f"{name}-gke",
        name=spec.name,
        project=project,
        location=spec.location,
        min_master_version=spec.kubernetes_version,
        release_channel=gcp.container.ClusterReleaseChannelArgs(channel=spec.release_channel),
        remove_default_node_pool=True,
        initial_node_count=1,
        deletion_protection=spec.deletion_protection,
        network=subnet.network,
        subnetwork=subnet.id,
        networking_mode="VPC_NATIVE",
        ip_allocation_policy=gcp.container.ClusterIpAllocationPolicyArgs(
            cluster_secondary_range_name="pods", services_secondary_range_name="services"
        ),
        datapath_provider="ADVANCED_DATAPATH",
        workload_identity_config=gcp.container.ClusterWorkloadIdentityConfigArgs(
            workload_pool=f"{project}.svc.id.goog"
        ),
        maintenance_policy=maintenance_policy(spec.maintenance_window),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=after),
    )


def node_config(
    *,
    machine_type: str,
    image_type: str,
    disk_size_gb: int,
    account_email: pulumi.Input[str],
    labels: dict[str, str],
    taints: list[gcp.container.NodePoolNodeConfigTaintArgs] | None = None,
    accelerators: list[gcp.container.NodePoolNodeConfigGuestAcceleratorArgs] | None = None,
    spot: bool = False,
) -> gcp.container.NodePoolNodeConfigArgs:
    """Node settings every pool shares: the least-privilege account and the Workload Identity metadata server."""
    return gcp.container.NodePoolNodeConfigArgs(
        machine_type=machine_type,
        image_type=image_type,
        disk_size_gb=disk_size_gb,
        service_account=account_email,
        oauth_scopes=[CLOUD_PLATFORM],
        labels=labels,
        resource_labels={"ollama-fleet": labels.get("ollama-fleet/pool", SYSTEM_POOL)},
        taints=taints,
        guest_accelerators=accelerators,
        spot=spot,
        workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(mode="GKE_METADATA"),
    )


def management() -> gcp.container.NodePoolManagementArgs:
    """Auto-repair and auto-upgrade on, inside the maintenance window (see the module docstring)."""
    return gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True)


def surge_upgrades() -> gcp.container.NodePoolUpgradeSettingsArgs:
    """Upgrade by adding one new node before draining an old one: capacity never drops during an upgrade."""
    return gcp.container.NodePoolUpgradeSettingsArgs(strategy="SURGE", max_surge=1, max_unavailable=0)


def system_pool(name: str, spec: GkeClusterSpec, base: GkeBase, parent: pulumi.Resource) -> gcp.container.NodePool:
    """The small untainted pool where the router and cluster services run."""
    return gcp.container.NodePool(
        f"{name}-system-pool",
        name=SYSTEM_POOL,
        cluster=base.cluster.name,
        location=base.location,
        initial_node_count=1,
        autoscaling=gcp.container.NodePoolAutoscalingArgs(
            total_min_node_count=spec.system_pool.nodes.min,
            total_max_node_count=spec.system_pool.nodes.max,
            location_policy="BALANCED",
        ),
        management=management(),
        upgrade_settings=surge_upgrades(),
        node_config=node_config(
            machine_type=spec.system_pool.machine_type,
            image_type="COS_CONTAINERD",
            disk_size_gb=50,
            account_email=base.node_account_email,
            labels={SYSTEM_ROLE_LABEL: SYSTEM_POOL},
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(base.node_roles)),
    )


def kubeconfig(cluster_name: str, endpoint: str, ca_certificate: str) -> str:
    """A kubeconfig that authenticates through ``gke-gcloud-auth-plugin``: no static credential in state."""
    context = f"gke_{cluster_name}"
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": context,
                "cluster": {"server": f"https://{endpoint}", "certificate-authority-data": ca_certificate},
            }
        ],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
        "users": [
            {
                "name": context,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "gke-gcloud-auth-plugin",
                        "installHint": "gcloud components install gke-gcloud-auth-plugin",
                        "provideClusterInfo": True,
                    }
                },
            }
        ],
    }
    return json.dumps(document, indent=2)
