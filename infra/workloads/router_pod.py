"""The router's pod: the model map mounted read-only, keys from a Secret, and a graceful drain.

On shutdown the pod keeps serving for a few seconds (preStop) while endpoints and load balancers stop
sending it new requests; the generous grace period lets streamed answers in flight finish.

The router answers only the Host names clients are meant to use (``FLEET_ALLOWED_HOSTS``, its guard
against DNS rebinding): the Service's cluster names, loopback names (``kubectl port-forward``) and the TLS
domains the Ingress serves. Probes and Google's load-balancer health checks send the pod's IP as Host
(https://cloud.google.com/load-balancing/docs/health-check-concepts#criteria-protocol-http); the router
exempts ``/healthz`` and ``/readyz`` from the check, so no pod IP needs listing. A plain-HTTP LoadBalancer
or NodePort Service is reached at an address that exists only once the Service does, so there the variable
is left unset and the router answers any Host (its keys protect it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from config.external import UPSTREAM_DIR
from config.k8s_names import OLLAMA_PORT
from config.stack import RouterSpec
from infra.k8s.helpers import (
    ROUTER_APP,
    env_list,
    exclusion_terms,
    http_probe,
    mount,
    required_affinity,
    resources,
    restricted_security,
)
from infra.workloads.model_map_config_map import KEY

MAP_DIR = "/etc/ollama-fleet/"
MAP_PATH = f"{MAP_DIR}{KEY}"
PORT_NAME = "http"
READINESS_PATH = "/readyz"
"""Kubernetes' readiness probe and, behind GKE's Ingress, the load balancer's health check."""
ROUTER_USER = 10001
"""The router image's own numeric user (router/Dockerfile: USER 10001:10001)."""
GRACE_SECONDS = 60
DRAIN_SECONDS = 10
API_KEYS, ADMIN_KEYS = "api-keys", "admin-keys"
UPSTREAM_VOLUME = "upstream"
SLEEP_ACTION_SINCE = (1, 30)
"""``lifecycle.preStop.sleep`` is on by default from Kubernetes 1.30; older clusters get ``exec sleep``."""
KEEPALIVE_SECONDS = 620
"""How long the router keeps an idle client connection open. Google's load balancers keep idle connections to
backends open for 600 s and require the backend's keep-alive timeout to be longer, or a request may be sent
on a connection the backend is closing and fail with a 502
(https://cloud.google.com/load-balancing/docs/https#timeouts_and_retries)."""


@dataclass(frozen=True, slots=True)
class RouterPodArgs:
    """Everything the router's pod template depends on."""

    image: pulumi.Input[str]
    config_map: pulumi.Input[str]
    keys_secret: pulumi.Input[str] | None
    secret_keys: Sequence[str]
    node_selector: Mapping[str, str]
    avoid: Sequence[Mapping[str, str]]
    kubernetes_version: str
    pull_policy: str = "IfNotPresent"
    allowed_hosts: str | None = None
    upstream_secret: pulumi.Input[str] | None = None
    """The Secret of the external pools' tokens and CA bundles, mounted at UPSTREAM_DIR (None: no such pool)."""
    service_account: pulumi.Input[str] | None = None
    """Set when some pool scales to zero: the account whose token lets the router scale them."""


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def allowed_hosts(router: RouterSpec, namespace: str) -> str | None:
    """``FLEET_ALLOWED_HOSTS`` for a router in ``namespace``; None (any Host) behind plain-HTTP balancers."""
    if router.tls is None and router.service.type in {"LoadBalancer", "NodePort"}:
        return None
    service = [ROUTER_APP, f"{ROUTER_APP}.{namespace}", f"{ROUTER_APP}.{namespace}.svc"]
    service.append(f"{ROUTER_APP}.{namespace}.svc.cluster.local")
    domains = list(router.tls.domains) if router.tls is not None else []
    return ",".join([*service, *LOOPBACK_HOSTS, *domains])


def _pre_stop(kubernetes_version: str) -> k8s.core.v1.LifecycleHandlerArgs:
    major, minor = (int(part) for part in kubernetes_version.split(".")[:2])
    if (major, minor) >= SLEEP_ACTION_SINCE:
        return k8s.core.v1.LifecycleHandlerArgs(sleep=k8s.core.v1.SleepActionArgs(seconds=DRAIN_SECONDS))
    return k8s.core.v1.LifecycleHandlerArgs(exec_=k8s.core.v1.ExecActionArgs(command=["sleep", str(DRAIN_SECONDS)]))


def _env(args: RouterPodArgs) -> list[k8s.core.v1.EnvVarArgs]:
    env = env_list(
        {
            "FLEET_MODEL_MAP": MAP_PATH,
            "FLEET_HOST": "0.0.0.0",
            "FLEET_PORT": str(OLLAMA_PORT),
            "FLEET_KEEPALIVE": str(KEEPALIVE_SECONDS),
        }
        | ({"FLEET_ALLOWED_HOSTS": args.allowed_hosts} if args.allowed_hosts else {})
    )
    names = {API_KEYS: "FLEET_API_KEYS", ADMIN_KEYS: "FLEET_ADMIN_KEYS"}
    for key in args.secret_keys:
        source = k8s.core.v1.SecretKeySelectorArgs(name=args.keys_secret, key=key)
        env.append(
            k8s.core.v1.EnvVarArgs(name=names[key], value_from=k8s.core.v1.EnvVarSourceArgs(secret_key_ref=source))
        )
    return env


def _container(args: RouterPodArgs) -> k8s.core.v1.ContainerArgs:
    return k8s.core.v1.ContainerArgs(
        name="router",
        image=args.image,
        image_pull_policy=args.pull_policy,
        ports=[k8s.core.v1.ContainerPortArgs(name=PORT_NAME, container_port=OLLAMA_PORT, protocol="TCP")],
        env=_env(args),
        volume_mounts=[
            mount("model-map", MAP_DIR, read_only=True),
            mount("tmp", "/tmp"),
            *([mount(UPSTREAM_VOLUME, UPSTREAM_DIR, read_only=True)] if args.upstream_secret is not None else []),
        ],
        readiness_probe=http_probe(READINESS_PATH, PORT_NAME, period=5, failures=2),
        liveness_probe=http_probe("/healthz", PORT_NAME, period=10, failures=3),
        lifecycle=k8s.core.v1.LifecycleArgs(pre_stop=_pre_stop(args.kubernetes_version)),
        resources=resources("250m", "256Mi", cpu_limit="2", memory_limit="512Mi"),
        security_context=restricted_security(user=ROUTER_USER),
    )


def _spread(selector: Mapping[str, str]) -> list[k8s.core.v1.TopologySpreadConstraintArgs]:
    """Replicas on different nodes (and zones where there are several): one node loss is not an outage."""
    return [
        k8s.core.v1.TopologySpreadConstraintArgs(
            max_skew=1,
            topology_key=key,
            when_unsatisfiable="ScheduleAnyway",
            label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(selector)),
        )
        for key in ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
    ]


def _upstream_volume(args: RouterPodArgs) -> list[k8s.core.v1.VolumeArgs]:
    """The external pools' tokens and CA bundles, read-only; the pod has no fsGroup, so they are 0444 for the
    router's non-root user to read them (the container runs nothing else)."""
    if args.upstream_secret is None:
        return []
    source = k8s.core.v1.SecretVolumeSourceArgs(secret_name=args.upstream_secret, default_mode=0o444)
    return [k8s.core.v1.VolumeArgs(name=UPSTREAM_VOLUME, secret=source)]


def pod_template(
    args: RouterPodArgs,
    labels: Mapping[str, str],
    selector: Mapping[str, str],
    annotations: Mapping[str, pulumi.Input[str]],
) -> k8s.core.v1.PodTemplateSpecArgs:
    """The router's pod: on the system nodes, never on a pool's nodes."""
    terms = exclusion_terms(args.avoid)
    return k8s.core.v1.PodTemplateSpecArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(labels=dict(labels), annotations=dict(annotations)),
        spec=k8s.core.v1.PodSpecArgs(
            node_selector=dict(args.node_selector) or None,
            affinity=required_affinity(*terms) if terms else None,
            topology_spread_constraints=_spread(selector),
            termination_grace_period_seconds=GRACE_SECONDS,
            enable_service_links=False,
            service_account_name=args.service_account,
            automount_service_account_token=args.service_account is not None,
            security_context=k8s.core.v1.PodSecurityContextArgs(
                run_as_non_root=True, seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault")
            ),
            containers=[_container(args)],
            volumes=[
                k8s.core.v1.VolumeArgs(
                    name="model-map", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=args.config_map)
                ),
                k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="64Mi")),
                *_upstream_volume(args),
            ],
        ),
    )
