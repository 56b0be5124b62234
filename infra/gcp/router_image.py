"""The router's image: built from this repository and pushed to Artifact Registry, or taken prebuilt.

A GKE stack without ``router.image`` builds ``router/Dockerfile`` (context: the repository root) with
BuildKit and deploys it by digest, so a rebuilt image always rolls the Deployment and a moved tag never
does. The build is skipped during ``pulumi preview`` (``build_on_preview=False``): previews in CI must not
need a Docker daemon. Registry credentials are the GCP provider's own short-lived access token.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_docker_build as docker_build
import pulumi_gcp as gcp

from infra.gcp.gke import GcpSite

REPOSITORY = "ollama-fleet"
BUILD_CONTEXT = "."
DOCKERFILE = "router/Dockerfile"
"""Relative to the project directory, where Pulumi runs the program."""


def router_image(
    name: str, prebuilt: str | None, site: GcpSite | None, apis: Sequence[pulumi.Resource], parent: pulumi.Resource
) -> pulumi.Output[str]:
    """The image reference the Deployment runs: ``router.image`` when given, else a fresh build by digest."""
    if prebuilt is not None:
        return pulumi.Output.from_input(prebuilt)
    # config.rules refuses an existing cluster without router.image and a GKE stack without gcp:project
    assert site is not None and site.project
    region = site.region
    registry_uri = _repository(name, site.project, region, apis, parent)
    token: pulumi.Output[str] = gcp.organizations.get_client_config_output(
        opts=pulumi.InvokeOptions(parent=parent)
    ).access_token
    image = docker_build.Image(
        f"{name}-image",
        context=docker_build.BuildContextArgs(location=BUILD_CONTEXT),
        dockerfile=docker_build.DockerfileArgs(location=DOCKERFILE),
        platforms=[docker_build.Platform.LINUX_AMD64],
        push=True,
        build_on_preview=False,
        tags=[pulumi.Output.concat(registry_uri, "/router:latest")],
        registries=[
            docker_build.RegistryArgs(
                address=f"{region}-docker.pkg.dev",
                username="oauth2accesstoken",
                password=pulumi.Output.secret(token),
            )
        ],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return pulumi.Output.concat(registry_uri, "/router@", image.digest)


def _repository(
    name: str, project: str, region: str, apis: Sequence[pulumi.Resource], parent: pulumi.Resource
) -> pulumi.Output[str]:
    """The Docker repository the router image is pushed to, in the cluster's region (nodes pull it nearby)."""
    repository = gcp.artifactregistry.Repository(
        f"{name}-registry",
        project=project,
        location=region,
        repository_id=REPOSITORY,
        format="DOCKER",
        description="ollama-fleet router images",
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(apis)),
    )
    registry_uri: pulumi.Output[str] = repository.registry_uri
    return registry_uri
