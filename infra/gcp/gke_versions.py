"""Which Kubernetes minor a GKE stack runs: the release channel's default, or a set one that GKE still offers.

A pinned minor ages out: GKE supports a minor for about 14 months in the standard channels and then upgrades
the cluster anyway (https://cloud.google.com/kubernetes-engine/versioning). So ``cluster.kubernetesVersion``
is unset by default and the cluster follows its release channel. A minor the user does set is checked during
``pulumi preview`` against GKE's own answer for the location (the ``getServerConfig`` API, through
pulumi-gcp's ``gcp.container.get_engine_versions``), and refused with the minors GKE offers.

The offline plan cannot ask GKE, so it validates manifests against the minor of :data:`RECORDED_SERVER_CONFIG`,
an answer in the API's shape for ``us-central1`` that the mocks also return for the invoke. Its versions follow
GKE's release schedule for December 2026 (https://cloud.google.com/kubernetes-engine/docs/release-schedule):
1.34 left standard support in October 2026, so the channels offer 1.35 to 1.37. Refresh it from
``gcloud container get-server-config --region us-central1 --format json`` when the schedule moves on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_gcp as gcp

from config.stack import GkeClusterSpec, StackConfig

ENGINE_VERSIONS_TOKEN = "gcp:container/getEngineVersions:getEngineVersions"
RECORDED_SERVER_CONFIG: dict[str, Any] = {
    "defaultClusterVersion": "1.35.3-gke.1234000",
    "latestMasterVersion": "1.37.1-gke.1180000",
    "latestNodeVersion": "1.37.1-gke.1180000",
    "validMasterVersions": [
        "1.37.1-gke.1180000",
        "1.36.4-gke.1302000",
        "1.36.3-gke.1116000",
        "1.35.6-gke.1421000",
        "1.35.3-gke.1234000",
    ],
    "validNodeVersions": [
        "1.37.1-gke.1180000",
        "1.36.4-gke.1302000",
        "1.36.3-gke.1116000",
        "1.35.6-gke.1421000",
        "1.35.3-gke.1234000",
    ],
    "releaseChannelDefaultVersion": {
        "RAPID": "1.37.1-gke.1180000",
        "REGULAR": "1.36.3-gke.1116000",
        "STABLE": "1.35.6-gke.1421000",
        "EXTENDED": "1.35.6-gke.1421000",
    },
    "releaseChannelLatestVersion": {
        "RAPID": "1.37.1-gke.1180000",
        "REGULAR": "1.36.4-gke.1302000",
        "STABLE": "1.35.6-gke.1421000",
        "EXTENDED": "1.36.4-gke.1302000",
    },
    "releaseChannelUpgradeTargetVersion": {
        "RAPID": "1.37.1-gke.1180000",
        "REGULAR": "1.36.3-gke.1116000",
        "STABLE": "1.35.6-gke.1421000",
        "EXTENDED": "1.35.6-gke.1421000",
    },
}
"""``getServerConfig`` for ``us-central1`` in December 2026, as pulumi-gcp's invoke returns it (camelCase)."""


def minor(version: str) -> str:
    """``1.35.6-gke.1421000`` → ``1.35``."""
    return ".".join(version.split(".")[:2])


def _key(version: str) -> tuple[int, int]:
    major, minor_part = minor(version).split(".")
    return int(major), int(minor_part)


def offered_minors(valid_master_versions: Sequence[str], channel_latest: str | None) -> list[str]:
    """The minors GKE lets a cluster of this channel start on, oldest first (none newer than the channel's latest)."""
    minors = {minor(v) for v in valid_master_versions}
    if channel_latest:
        minors = {m for m in minors if _key(m) <= _key(channel_latest)}
    return sorted(minors, key=_key)


def version_problem(spec: GkeClusterSpec, answer: Mapping[str, Any]) -> str | None:
    """Why GKE would refuse ``cluster.kubernetesVersion`` here, naming what it offers; None when it is fine."""
    wanted = spec.kubernetes_version
    if wanted is None:
        return None
    latest = dict(answer.get("releaseChannelLatestVersion") or {}).get(spec.release_channel)
    offered = offered_minors(list(answer.get("validMasterVersions") or []), latest)
    if wanted in offered:
        return None
    default = dict(answer.get("releaseChannelDefaultVersion") or {}).get(spec.release_channel, "unknown")
    return (
        f"cluster.kubernetesVersion: {wanted} is not offered by GKE in {spec.location} on the "
        f"{spec.release_channel} channel, which offers {', '.join(offered) or 'nothing'} (channel default "
        f"{default}). Set one of those, or remove kubernetesVersion to follow the channel's default."
    )


def check_kubernetes_version(project: str, spec: GkeClusterSpec, parent: pulumi.Resource) -> None:
    """Ask GKE (at preview and up) whether a set minor is offered; raise :class:`pulumi.RunError` if not.

    Only a set minor is checked, so a fresh project does not need the container API before Pulumi enables it.
    """
    if spec.kubernetes_version is None:
        return
    result = gcp.container.get_engine_versions(
        location=spec.location, project=project, opts=pulumi.InvokeOptions(parent=parent)
    )
    answer = {
        "validMasterVersions": list(result.valid_master_versions or []),
        "releaseChannelLatestVersion": dict(result.release_channel_latest_version or {}),
        "releaseChannelDefaultVersion": dict(result.release_channel_default_version or {}),
    }
    problem = version_problem(spec, answer)
    if problem is not None:
        raise pulumi.RunError(problem)


def manifest_minor(stack: StackConfig) -> str:
    """The minor the stack's manifests are written and validated for.

    A set version; else, on GKE, the channel default of :data:`RECORDED_SERVER_CONFIG`; an existing cluster
    always states its own.
    """
    spec = stack.cluster
    if spec.kubernetes_version is not None:
        return spec.kubernetes_version
    channel = spec.release_channel if isinstance(spec, GkeClusterSpec) else "STABLE"
    return minor(RECORDED_SERVER_CONFIG["releaseChannelDefaultVersion"][channel])
