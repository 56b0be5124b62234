"""Where pods pull their images from, and how often.

A GPU pool scales from zero: every new node pulls the Ollama image again, and Docker Hub limits anonymous
pulls per source address (https://docs.docker.com/docker-hub/usage/pulls/), which a cluster's shared NAT
address reaches quickly. On GKE the stack therefore creates an Artifact Registry *remote* repository with
Docker Hub as its upstream (https://cloud.google.com/artifact-registry/docs/repositories/remote-repo): the
first pull goes to Docker Hub once, every later one is served from the cache in the cluster's region, read by
the node service account (``roles/artifactregistry.reader``). Ollama images hosted elsewhere (ghcr.io, a
private registry) are not Docker Hub's to proxy and keep their reference.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp

from config.stack import PoolSpec
from infra.k8s.helpers import image_is_floating

DOCKER_HUB_MIRROR = "docker-hub"
"""The remote repository's id."""
_DOCKER_HUB_PREFIXES = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")


def docker_hub_path(image: str) -> str | None:
    """The Docker Hub path of ``image`` (``ollama/ollama:0.32.15``, ``library/busybox:1.37.0``), or None elsewhere."""
    for prefix in _DOCKER_HUB_PREFIXES:
        if image.startswith(prefix):
            image = image[len(prefix) :]
            break
    else:
        first = image.split("/", 1)[0]
        if "/" in image and ("." in first or ":" in first or first == "localhost"):
            return None
    return image if "/" in image else f"library/{image}"


def mirror_uri(project: str, region: str) -> str:
    """The remote repository's address: ``<region>-docker.pkg.dev/<project>/docker-hub``."""
    return f"{region}-docker.pkg.dev/{project}/{DOCKER_HUB_MIRROR}"


def through_mirror(image: str, mirror: str | None) -> str:
    """``image`` pulled through ``mirror`` when it comes from Docker Hub; unchanged otherwise or without a mirror."""
    path = docker_hub_path(image)
    if mirror is None or path is None:
        return image
    return f"{mirror}/{path}"


def mirrored_pool(pool: PoolSpec, mirror: str | None) -> PoolSpec:
    """The pool with its Ollama image pulled through ``mirror`` (the stack file's value stays as written)."""
    image = through_mirror(pool.ollama.image, mirror)
    if image == pool.ollama.image:
        return pool
    return pool.model_copy(update={"ollama": pool.ollama.model_copy(update={"image": image})})


def pull_policy(image: str) -> str:
    """``IfNotPresent`` for an image pinned by digest or version tag (a node's copy is the right one), else ``Always``.

    Only an untagged or ``latest`` reference may move, so only that one is asked for again on every start;
    a pinned one is pulled once per node, which also spares the registry's pull limits.
    """
    return "Always" if image_is_floating(image) else "IfNotPresent"


BUILT_IMAGE_SKIPS = {"CKV_K8S_15": "the image is pinned by version or digest so the cached copy is the one asked for"}
"""Checkov's ``Always`` rule (CKV_K8S_15) does not fit a pinned image, which is pulled once per node."""


def pull_skips(images: Sequence[str]) -> dict[str, str]:
    """The checkov skip an object needs when one of its images is pulled ``IfNotPresent``."""
    if any(pull_policy(image) == "IfNotPresent" for image in images):
        return dict(BUILT_IMAGE_SKIPS)
    return {}


def docker_hub_repository(
    name: str, project: str, region: str, apis: Sequence[pulumi.Resource], parent: pulumi.Resource
) -> gcp.artifactregistry.Repository:
    """The remote repository that caches Docker Hub images in the cluster's region."""
    return gcp.artifactregistry.Repository(
        f"{name}-docker-hub",
        project=project,
        location=region,
        repository_id=DOCKER_HUB_MIRROR,
        format="DOCKER",
        mode="REMOTE_REPOSITORY",
        description="ollama-fleet: Docker Hub images (Ollama) cached in the cluster's region",
        remote_repository_config=gcp.artifactregistry.RepositoryRemoteRepositoryConfigArgs(
            description="Docker Hub",
            docker_repository=gcp.artifactregistry.RepositoryRemoteRepositoryConfigDockerRepositoryArgs(
                public_repository="DOCKER_HUB"
            ),
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(apis)),
    )
