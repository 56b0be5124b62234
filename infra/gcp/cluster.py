"""Cluster: where the fleet runs, and the Kubernetes provider every other component deploys through.

``type: gke`` creates the cluster on GCP (:mod:`infra.gcp.gke`); ``type: existing`` adopts the user's cluster
from their kubeconfig and creates nothing on GCP. Either way the component ends with a provider and the
fleet's namespace, so nothing downstream needs to know which kind it got.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from config.k8s_names import SYSTEM_POOL
from config.stack import ClusterSpec, ExistingClusterSpec, GkeClusterSpec, PoolSpec
from infra.drivers.amd_device_plugin import AmdDevicePlugin, AmdDevicePluginArgs
from infra.drivers.device_plugin import DevicePlugin, DevicePluginArgs
from infra.gcp import gke, gke_versions
from infra.gcp.gke import GcpSite, GkeBase
from infra.k8s import images, network_policy
from infra.k8s.accelerator import is_amd, is_nvidia
from infra.k8s.helpers import app_labels
from infra.k8s.placement import existing_placement

POD_SECURITY = "pod-security.kubernetes.io/enforce"


@dataclass(frozen=True, slots=True)
class ClusterArgs:
    """The cluster spec, the pools an existing cluster's device plugins serve, and a GKE stack's project and region.

    ``region`` is ``gcp:region``; unset, the region of the cluster's location.
    """

    spec: ClusterSpec
    pools: Sequence[PoolSpec]
    project: str | None = None
    region: str | None = None


class Cluster(pulumi.ComponentResource):
    """The cluster, its Kubernetes provider and the fleet's namespace.

    Attributes:
        provider: the provider every Kubernetes resource of the stack uses.
        cluster_name: the GKE cluster name, or the existing cluster's configured name.
        namespace: the fleet's namespace (Pod Security ``restricted``: nothing there runs as root; every pod
            denied all traffic but DNS unless a component's NetworkPolicy lets it through).
        gke: the GCP side (None for an existing cluster).
        site: the GKE stack's project, region and cluster name (None for an existing cluster).
        system_node_pool: the GKE node pool the router runs on (None for an existing cluster).
    """

    provider: k8s.Provider
    cluster_name: pulumi.Output[str]
    namespace: pulumi.Output[str]
    gke: gke.GkeBase | None
    site: GcpSite | None
    system_node_pool: str | None

    def __init__(self, name: str, args: ClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ollama-fleet:infra:Cluster", name, None, opts)
        spec = args.spec
        self.gke = None
        self.site = None
        self.system_node_pool = None
        if isinstance(spec, GkeClusterSpec):
            self.site = GcpSite(args.project or "", gke.region_of(spec, args.region), spec.name)
            self.provider, self.cluster_name, self.gke = self._gke(name, self.site, spec)
            self.system_node_pool = SYSTEM_POOL
        else:
            self.provider, self.cluster_name = self._existing(name, args.pools, spec)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=spec.namespace,
                labels={**app_labels("ollama-fleet", "namespace"), POD_SECURITY: "restricted"},
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
        )
        self.namespace = namespace.metadata.apply(lambda m: str(m.name))
        network_policy.namespace_baseline(
            f"{name}-namespace", self.namespace, pulumi.ResourceOptions(parent=self, provider=self.provider)
        )
        self.register_outputs({"clusterName": self.cluster_name, "namespace": self.namespace})

    def _gke(self, name: str, site: GcpSite, spec: GkeClusterSpec) -> tuple[k8s.Provider, pulumi.Output[str], GkeBase]:
        """The GKE cluster, its system pool and the provider for it; returns the provider, name and GCP side."""
        project, region = site.project, site.region
        gke_versions.check_kubernetes_version(project, spec, self)
        apis = gke.enable_apis(name, project, self)
        subnet = gke.network(name, spec, project, region=region, after=apis, parent=self)
        email, roles = gke.node_identity(name, spec, project, after=apis, parent=self)
        cluster = gke.cluster(name, spec, project, subnet, after=apis, parent=self)
        docker_hub = images.docker_hub_repository(name, project, region, apis, self)
        base = gke.GkeBase(
            cluster,
            spec.location,
            email,
            roles,
            apis,
            docker_hub=images.mirror_uri(project, region),
            registry=(docker_hub, *roles),
        )
        system = gke.system_pool(name, spec, base, self)
        kubeconfig = pulumi.Output.all(
            cluster.name, cluster.endpoint, cluster.master_auth.cluster_ca_certificate
        ).apply(lambda parts: gke.kubeconfig(str(parts[0]), str(parts[1]), str(parts[2])))
        provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=kubeconfig,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[system]),
        )
        cluster_name: pulumi.Output[str] = cluster.name
        return provider, cluster_name, base

    def _existing(
        self, name: str, pools: Sequence[PoolSpec], spec: ExistingClusterSpec
    ) -> tuple[k8s.Provider, pulumi.Output[str]]:
        provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=spec.kubeconfig,
            context=spec.context,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        nvidia = [existing_placement(pool) for pool in pools if is_nvidia(pool)]
        amd = [existing_placement(pool) for pool in pools if is_amd(pool)]
        plugin_opts = pulumi.ResourceOptions(parent=self, providers=[provider])
        if spec.device_plugin and nvidia:
            DevicePlugin(f"{name}-device-plugin", DevicePluginArgs(placements=nvidia), plugin_opts)
        if spec.device_plugin and amd:
            AmdDevicePlugin(f"{name}-amd-device-plugin", AmdDevicePluginArgs(placements=amd), plugin_opts)
        return provider, pulumi.Output.from_input(spec.name)
