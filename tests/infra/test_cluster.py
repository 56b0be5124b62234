"""The cluster: GCP resources for ``type: gke``, nothing on GCP for ``type: existing``, and the provider."""

from __future__ import annotations

import json

from config.stack import GkeClusterSpec, StackConfig
from infra.gcp.gke import kubeconfig
from infra.offline.mocks import MOCK_ENDPOINT, Run
from tests.infra.fleet import inputs, one

CLUSTER = "gcp:container/cluster:Cluster"
PROVIDER = "pulumi:providers:kubernetes"


def test_project_services_are_enabled_and_kept(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    services = [inputs(r) for r in run.of_type("gcp:projects/service:Service")]
    assert sorted(s["service"] for s in services) == [
        "artifactregistry.googleapis.com",
        "cloudresourcemanager.googleapis.com",
        "compute.googleapis.com",
        "container.googleapis.com",
        "iam.googleapis.com",
    ]
    assert all(s["project"] == stack.project and s["disableOnDestroy"] is False for s in services)


def test_cluster_is_vpc_native_dataplane_v2_with_workload_identity(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    assert isinstance(stack.cluster, GkeClusterSpec)
    cluster = one(run, CLUSTER)
    assert cluster["name"] == stack.cluster.name and cluster["location"] == stack.cluster.location
    assert cluster["networkingMode"] == "VPC_NATIVE"
    assert cluster["ipAllocationPolicy"] == {
        "clusterSecondaryRangeName": "pods",
        "servicesSecondaryRangeName": "services",
    }
    assert cluster["datapathProvider"] == "ADVANCED_DATAPATH"
    assert "networkPolicy" not in cluster  # Dataplane V2 enforces policies itself
    assert cluster["workloadIdentityConfig"] == {"workloadPool": f"{stack.project}.svc.id.goog"}
    assert cluster["removeDefaultNodePool"] is True
    assert cluster["releaseChannel"] == {"channel": stack.cluster.release_channel}
    assert "minMasterVersion" not in cluster, "no kubernetesVersion: the channel's default, not a pin that ages out"
    assert cluster["deletionProtection"] is stack.cluster.deletion_protection
    subnet = one(run, "gcp:compute/subnetwork:Subnetwork")
    assert {r["rangeName"] for r in subnet["secondaryIpRanges"]} == {"pods", "services"}


def test_upgrades_run_in_the_weekly_window_and_nothing_holds_security_patches(dev: tuple[StackConfig, Run]) -> None:
    _, run = dev
    policy = one(run, CLUSTER)["maintenancePolicy"]
    assert "maintenanceExclusions" not in policy
    assert policy["recurringWindow"] == {
        "startTime": "2025-01-04T02:00:00Z",
        "endTime": "2025-01-04T08:00:00Z",
        "recurrence": "FREQ=WEEKLY;BYDAY=SA,SU",
    }
    for node_pool in run.of_type("gcp:container/nodePool:NodePool"):
        upgrade = inputs(node_pool)["upgradeSettings"]
        assert (upgrade["maxSurge"], upgrade["maxUnavailable"]) == (1, 0), inputs(node_pool)["name"]


def test_nodes_run_as_a_least_privilege_account(dev: tuple[StackConfig, Run]) -> None:
    _, run = dev
    account = one(run, "gcp:serviceaccount/account:Account")
    email = f"{account['accountId']}@{account['project']}.iam.gserviceaccount.com"
    roles = [inputs(r) for r in run.of_type("gcp:projects/iAMMember:IAMMember")]
    assert sorted(r["role"] for r in roles) == [
        "roles/artifactregistry.reader",
        "roles/container.defaultNodeServiceAccount",
    ]
    assert {r["member"] for r in roles} == {f"serviceAccount:{email}"}
    for node_pool in run.of_type("gcp:container/nodePool:NodePool"):
        config = inputs(node_pool)["nodeConfig"]
        assert config["serviceAccount"] == email
        assert config["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}


def test_system_pool_is_small_and_untainted(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    assert isinstance(stack.cluster, GkeClusterSpec)
    system = next(inputs(r) for r in run.of_type("gcp:container/nodePool:NodePool") if inputs(r)["name"] == "system")
    assert "taints" not in system["nodeConfig"] and "guestAccelerators" not in system["nodeConfig"]
    assert system["nodeConfig"]["machineType"] == stack.cluster.system_pool.machine_type
    assert system["autoscaling"]["totalMinNodeCount"] == stack.cluster.system_pool.nodes.min


def test_provider_authenticates_through_the_gke_auth_plugin(dev: tuple[StackConfig, Run]) -> None:
    _, run = dev
    provider = one(run, PROVIDER)
    config = json.loads(provider["kubeconfig"])
    assert config["clusters"][0]["cluster"]["server"] == f"https://{MOCK_ENDPOINT}"
    exec_ = config["users"][0]["user"]["exec"]
    assert exec_["command"] == "gke-gcloud-auth-plugin"
    assert exec_["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert "token" not in json.dumps(config["users"])


def test_kubeconfig_names_one_context() -> None:
    document = json.loads(kubeconfig("c", "10.0.0.1", "Q0E="))
    assert document["current-context"] == "gke_c"
    assert document["clusters"][0]["cluster"]["certificate-authority-data"] == "Q0E="


def test_every_kubernetes_object_goes_through_the_stack_provider(
    dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]
) -> None:
    for _, run in (dev, home):
        providers = run.of_type(PROVIDER)
        assert len(providers) == 1
        expected = f"{providers[0].urn}::{providers[0].name}-id"
        assert {r.provider for r in run.kubernetes()} == {expected}


def test_existing_cluster_creates_nothing_on_gcp(home: tuple[StackConfig, Run]) -> None:
    stack, run = home
    assert not [r for r in run.resources if r.type.startswith(("gcp:", "docker-build:"))]
    provider = one(run, PROVIDER)
    assert provider["context"] == getattr(stack.cluster, "context", None)
    assert provider["kubeconfig"] == getattr(stack.cluster, "kubeconfig", None)


def test_namespaces_and_pod_security(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    namespaces = {
        inputs(r)["metadata"]["name"]: inputs(r)["metadata"]["labels"]
        for r in run.of_type("kubernetes:core/v1:Namespace")
    }
    ns = stack.cluster.namespace
    assert namespaces[ns]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert namespaces[f"{ns}-drivers"]["pod-security.kubernetes.io/enforce"] == "privileged"
