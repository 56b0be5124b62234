"""Small typed builders the components share: labels, tolerations, probes, security contexts.

Each returns a pulumi-kubernetes ``Args`` object, so a misspelt field fails type checking instead of
becoming a silently ignored key in a manifest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from config import router_placement

PART_OF = "ollama-fleet"
GPU_RESOURCE = "nvidia.com/gpu"
SKIP_AWAIT = "pulumi.com/skipAwait"
"""Pulumi's annotation that makes ``pulumi up`` apply an object without waiting for it to become ready."""


def app_labels(name: str, component: str, **extra: str) -> dict[str, str]:
    """The recommended ``app.kubernetes.io`` labels plus any extra ones (e.g. the pool label)."""
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
        **extra,
    }


def selector_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """The immutable subset used in selectors: changing a selector would force a replacement."""
    return {key: labels[key] for key in ("app.kubernetes.io/name", "app.kubernetes.io/component") if key in labels}


def meta(
    name: str,
    namespace: pulumi.Input[str] | None,
    labels: Mapping[str, str],
    annotations: Mapping[str, str] | None = None,
) -> k8s.meta.v1.ObjectMetaArgs:
    """Object metadata with an explicit name, so Pulumi never appends a random suffix."""
    return k8s.meta.v1.ObjectMetaArgs(
        name=name, namespace=namespace, labels=dict(labels), annotations=dict(annotations) if annotations else None
    )


def slow_workload_annotations() -> dict[str, str]:
    """For workloads whose readiness can take an hour (GPU nodes from zero, model pulls)."""
    return {SKIP_AWAIT: "true"}


def toleration(key: str, value: str | None = None, effect: str = "NoSchedule") -> k8s.core.v1.TolerationArgs:
    """Tolerate one taint: ``Equal`` when a value is given, ``Exists`` otherwise."""
    if value is None:
        return k8s.core.v1.TolerationArgs(key=key, operator="Exists", effect=effect)
    return k8s.core.v1.TolerationArgs(key=key, operator="Equal", value=value, effect=effect)


def gpu_toleration() -> k8s.core.v1.TolerationArgs:
    """GKE taints GPU nodes ``nvidia.com/gpu=present:NoSchedule``; pods that do not request a GPU need this."""
    return toleration(GPU_RESOURCE)


def required_affinity(*terms: Sequence[tuple[str, str, Sequence[str]]]) -> k8s.core.v1.AffinityArgs:
    """Required node affinity: terms are alternatives, the expressions inside a term must all hold."""
    return k8s.core.v1.AffinityArgs(
        node_affinity=k8s.core.v1.NodeAffinityArgs(
            required_during_scheduling_ignored_during_execution=k8s.core.v1.NodeSelectorArgs(
                node_selector_terms=[
                    k8s.core.v1.NodeSelectorTermArgs(
                        match_expressions=[
                            k8s.core.v1.NodeSelectorRequirementArgs(
                                key=key, operator=operator, values=list(values) or None
                            )
                            for key, operator, values in term
                        ]
                    )
                    for term in terms
                ]
            )
        )
    )


def exclusion_terms(selectors: Iterable[Mapping[str, str]]) -> list[list[tuple[str, str, list[str]]]]:
    """Node-affinity terms matching exactly the nodes that match none of ``selectors``.

    :func:`config.router_placement.exclusion_terms` computes them; :mod:`config.rules` has already refused a
    stack that would need more than Kubernetes should be given.
    """
    return router_placement.exclusion_terms(selectors)


def http_probe(path: str, port: str, *, period: int = 10, failures: int = 3, timeout: int = 5) -> k8s.core.v1.ProbeArgs:
    """An HTTP GET probe on a named container port."""
    return k8s.core.v1.ProbeArgs(
        http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port=port),
        period_seconds=period,
        failure_threshold=failures,
        timeout_seconds=timeout,
    )


def exec_probe(script: str, *, period: int, failures: int, timeout: int) -> k8s.core.v1.ProbeArgs:
    """A probe that runs a shell snippet inside the container."""
    return k8s.core.v1.ProbeArgs(
        exec_=k8s.core.v1.ExecActionArgs(command=["sh", "-c", script]),
        period_seconds=period,
        failure_threshold=failures,
        timeout_seconds=timeout,
    )


def resources(
    cpu: str,
    memory: str,
    *,
    cpu_limit: str | None = None,
    memory_limit: str | None = None,
    gpus: int = 0,
    gpu_resource: str = GPU_RESOURCE,
) -> k8s.core.v1.ResourceRequirementsArgs:
    """Requests as given; memory is capped (at the request unless told otherwise), CPU only when asked.

    GPUs go into limits only: Kubernetes sets the request of an extended resource to its limit.
    """
    limits = {"memory": memory_limit or memory}
    if cpu_limit:
        limits["cpu"] = cpu_limit
    if gpus:
        limits[gpu_resource] = str(gpus)
    return k8s.core.v1.ResourceRequirementsArgs(requests={"cpu": cpu, "memory": memory}, limits=limits)


def restricted_security(*, user: int | None = None, read_only_root: bool = True) -> k8s.core.v1.SecurityContextArgs:
    """No privilege escalation, no capabilities, the runtime's seccomp profile."""
    return k8s.core.v1.SecurityContextArgs(
        allow_privilege_escalation=False,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        read_only_root_filesystem=read_only_root,
        run_as_non_root=True if user is not None else None,
        run_as_user=user,
        run_as_group=user,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def env_list(env: Mapping[str, str]) -> list[k8s.core.v1.EnvVarArgs]:
    """Environment variables in a stable order (server-side apply keys them by name, so names are unique)."""
    return [k8s.core.v1.EnvVarArgs(name=name, value=value) for name, value in sorted(env.items())]


def host_path_volume(name: str, path: str) -> k8s.core.v1.VolumeArgs:
    """A hostPath volume (only the privileged driver namespace may use these)."""
    return k8s.core.v1.VolumeArgs(name=name, host_path=k8s.core.v1.HostPathVolumeSourceArgs(path=path))


def mount(name: str, path: str, *, read_only: bool = False) -> k8s.core.v1.VolumeMountArgs:
    """Mount volume ``name`` at ``path``."""
    return k8s.core.v1.VolumeMountArgs(name=name, mount_path=path, read_only=read_only or None)


ROUTER_APP = "ollama-fleet-router"


def router_selector() -> dict[str, str]:
    """The router pods' selector labels: the router's Deployment uses them, Ollama's NetworkPolicy admits them."""
    return selector_labels(app_labels(ROUTER_APP, "router"))


OLLAMA_COMPONENT = "ollama"


def ollama_selector() -> dict[str, str]:
    """Every pool's Ollama pods (and nothing else of the fleet): where the router's egress may go."""
    return {"app.kubernetes.io/component": OLLAMA_COMPONENT, "app.kubernetes.io/part-of": PART_OF}


def image_is_floating(image: str) -> bool:
    """A reference without a tag or digest, or tagged ``latest``: what it runs can change under the stack."""
    if "@" in image:
        return False
    last = image.rsplit("/", 1)[-1]
    return ":" not in last or last.endswith(":latest")


def image_skips(images: Iterable[str]) -> dict[str, str]:
    """The image checks an object cannot pass, with why: tags come from the stack or pinned constants."""
    found = list(images)
    skips: dict[str, str] = {}
    if any("@sha256:" not in image for image in found):
        skips["CKV_K8S_43"] = "images are version-pinned tags set in the stack file or in infra constants"
    if any(image_is_floating(image) for image in found):
        skips["CKV_K8S_14"] = "the image tag is the stack file's ollama.image setting, chosen by its owner"
    return skips


def checkov_skips(skips: Mapping[str, str]) -> dict[str, str]:
    """Checkov skip annotations for one object: ``checkov.io/skipN: CKV_K8S_<n>=<reason>``.

    The team's policy (tools/checkov_plan.py) allows a skip only on the object that needs it, with its
    reason; checkov splits the value on '=', so a reason never contains one.
    """
    for check, reason in skips.items():
        if "=" in reason or len(reason.split()) < 3:
            raise ValueError(f"{check}: a skip reason needs a few words and no '=': {reason!r}")
    return {f"checkov.io/skip{i}": f"{check}={skips[check]}" for i, check in enumerate(sorted(skips), start=1)}


def pod_security(*, user: int | None = None, groups: Sequence[int] = ()) -> k8s.core.v1.PodSecurityContextArgs:
    """Pod-level defaults: the runtime's seccomp profile; non-root with ``user`` (and its group owning volumes).

    ``groups`` are host groups the pod's processes join, e.g. the owners of an AMD node's GPU devices.
    """
    return k8s.core.v1.PodSecurityContextArgs(
        supplemental_groups=list(groups) or None,
        run_as_non_root=True if user is not None else None,
        run_as_user=user,
        run_as_group=user,
        fs_group=user,
        fs_group_change_policy="OnRootMismatch" if user is not None else None,
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def one_at_a_time(
    name: str, resource_name: str, namespace: pulumi.Input[str], labels: dict[str, str], parent: pulumi.Resource
) -> k8s.policy.v1.PodDisruptionBudget:
    """Voluntary evictions (node upgrades, autoscaler scale-down, a node pool's drain) take one pod at a time,
    never one while another is still starting; a pod that is not ready may always be evicted
    (``AlwaysAllow``), so a broken pod cannot hold a node forever."""
    return k8s.policy.v1.PodDisruptionBudget(
        name,
        metadata=meta(resource_name, namespace, labels),
        spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
            max_unavailable=1,
            selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector_labels(labels)),
            unhealthy_pod_eviction_policy="AlwaysAllow",
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
