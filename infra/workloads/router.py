"""Router: the one endpoint clients see, in front of every pool's Ollama.

Its image comes from :mod:`infra.gcp.router_image`; its pods from :mod:`infra.workloads.router_pod`; its HTTPS door
(``router.tls``) from :mod:`infra.workloads.router_tls`. Access keys live in a Kubernetes Secret built from the
stack's secret config. A router reachable from outside the cluster (a NodePort or LoadBalancer Service,
or the HTTPS Ingress) is never left open by accident: with no ``apiKeys`` and ``allowAnonymous: false``
one key is generated and exported as the secret stack output ``routerApiKey``; and the config refuses
to send keys over plain HTTP on a public address unless ``allowInsecureHttp`` says so. Its pods accept
connections on their serving port only and connect to the pools' Ollama on 11434 only (and DNS), and to
each external pool's port (:mod:`infra.workloads.router_upstream`, which also mounts their tokens and CAs). The
Deployment leaves ``replicas`` to the HorizontalPodAutoscaler (``minReplicas`` = ``router.replicas``) so
``pulumi up`` and the autoscaler never fight over it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from config.k8s_names import OLLAMA_PORT
from config.stack import PoolSpec, RouterSpec, SecretKeys
from infra.gcp.gke import GcpSite
from infra.gcp.router_image import router_image
from infra.k8s import network_policy
from infra.k8s.helpers import (
    ROUTER_APP,
    app_labels,
    checkov_skips,
    image_skips,
    meta,
    ollama_selector,
    one_at_a_time,
    selector_labels,
)
from infra.k8s.images import BUILT_IMAGE_SKIPS, pull_policy, pull_skips
from infra.workloads import router_tls, router_upstream
from infra.workloads.router_pod import ADMIN_KEYS, API_KEYS, PORT_NAME, RouterPodArgs, pod_template
from infra.workloads.router_scaling import TOKEN_MOUNTED, RouterScalingArgs, router_scaling

INTERNAL_LB = "networking.gke.io/load-balancer-type"
KEYS_IN_ENV = "the router reads its keys from FLEET_API_KEYS and FLEET_ADMIN_KEYS, referenced from a Secret"
MODEL_MAP_VERSION = "ollama-fleet/model-map-version"
KEYS_SECRET_UID = "ollama-fleet/keys-secret-uid"
"""The keys Secret's uid on the pod template: a rotated key replaces the Secret (pulumi-kubernetes treats
Secrets as immutable), the new uid rolls the pods, and they read the new keys. A hash of the keys would
do the same but put something derived from them into the manifests."""
CPU_TARGET = 70


@dataclass(frozen=True, slots=True)
class RouterArgs:
    """The router's settings, where it runs, the model map it reads, and on GKE where its image and HTTPS front go.

    ``kubernetes_version`` is the minor the manifests are written for; ``site`` is None on an existing
    cluster, ``apis`` are the GCP services its GCP resources wait for, and ``allowed_hosts`` is the
    ``FLEET_ALLOWED_HOSTS`` value (None: any Host);
    ``external_pools`` are the servers outside the cluster it reaches with their tokens and CAs.
    """

    router: RouterSpec
    namespace: pulumi.Input[str]
    config_map: pulumi.Input[str]
    model_map_version: str
    node_selector: Mapping[str, str]
    kubernetes_version: str
    site: GcpSite | None = None
    avoid: Sequence[Mapping[str, str]] = ()
    apis: Sequence[pulumi.Resource] = field(default_factory=list)
    allowed_hosts: str | None = None
    external_pools: Sequence[PoolSpec] = ()
    scaling: Sequence[PoolSpec] = ()
    api_server: pulumi.Input[str] | None = None


def _keys(keys: SecretKeys | None, path: str) -> str | None:
    """The comma-separated keys, or None; an undecrypted value means the engine was bypassed."""
    if keys is None:
        return None
    if keys.values:
        return ",".join(keys.values)
    if keys.ciphertext:
        raise pulumi.RunError(f"{path} is still encrypted: run the program through `pulumi` so it is decrypted")
    return None


class Router(pulumi.ComponentResource):
    """The router's image, Deployment, Service, Secret, autoscaler, disruption budget, NetworkPolicies and HTTPS door.

    Attributes:
        url: how clients reach it (``https://`` + the first TLS domain, the Ingress's or load balancer's
            address, or the in-cluster name); None while that address is not known, and for a NodePort
            Service, which is reached on any node's address.
        node_port: the port a NodePort Service opens on every node, else None.
        address: the reserved address the TLS domains must point at (GKE with ``router.tls``), else None.
        api_key: the generated API key (a secret), or None when keys are configured or not needed.
    """

    url: pulumi.Output[str | None]
    node_port: pulumi.Output[int | None]
    address: pulumi.Output[str] | None
    api_key: pulumi.Output[str] | None

    def __init__(self, name: str, args: RouterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ollama-fleet:infra:Router", name, None, opts)
        labels = app_labels(ROUTER_APP, "router")
        selector = selector_labels(labels)
        deployment, self.api_key = self._deployment(name, args, labels, selector)
        self._autoscaling(name, args, labels, selector, deployment)
        self._network_policy(name, args, labels)
        self.url, self.address, self.node_port = self._front(name, args, labels, selector)
        self.register_outputs({"url": self.url, "nodePort": self.node_port, "address": self.address})

    def _deployment(
        self, name: str, args: RouterArgs, labels: dict[str, str], selector: dict[str, str]
    ) -> tuple[k8s.apps.v1.Deployment, pulumi.Output[str] | None]:
        """The router's pods with what they mount and may do; also the generated API key, if one is."""
        secret, secret_keys, api_key = self._secret(name, args, labels)
        upstream = router_upstream.upstream_secret(name, args.external_pools, args.namespace, labels, self)
        access = RouterScalingArgs(args.scaling, args.namespace, labels, args.api_server)
        scaling = router_scaling(f"{name}-scaling", access, self)
        pod = RouterPodArgs(
            image=router_image(name, args.router.image, args.site, args.apis, self),
            config_map=args.config_map,
            keys_secret=secret.metadata.apply(lambda m: str(m.name)) if secret else None,
            secret_keys=secret_keys,
            upstream_secret=upstream.metadata.apply(lambda m: str(m.name)) if upstream else None,
            node_selector=args.node_selector,
            avoid=args.avoid,
            kubernetes_version=args.kubernetes_version,
            pull_policy=pull_policy(args.router.image) if args.router.image else "IfNotPresent",  # by digest
            allowed_hosts=args.allowed_hosts,
            service_account=scaling.service_account_name if scaling else None,
        )
        annotations: dict[str, pulumi.Input[str]] = {MODEL_MAP_VERSION: args.model_map_version}
        if secret is not None:
            annotations[KEYS_SECRET_UID] = secret.metadata.apply(lambda m: str(m.uid or ""))
        skips = {"CKV_K8S_35": KEYS_IN_ENV} if secret_keys else {}
        skips |= image_skips([args.router.image]) if args.router.image else {}
        skips |= pull_skips([args.router.image]) if args.router.image else BUILT_IMAGE_SKIPS
        skips |= {"CKV_K8S_38": TOKEN_MOUNTED} if scaling else {}
        deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta(ROUTER_APP, args.namespace, labels, checkov_skips(skips) or None),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_surge=1, max_unavailable=0),
                ),
                template=pod_template(pod, labels, selector, annotations),
            ),
            opts=pulumi.ResourceOptions(parent=self, custom_timeouts=pulumi.CustomTimeouts(create="15m", update="15m")),
        )
        return deployment, api_key

    def _front(
        self, name: str, args: RouterArgs, labels: dict[str, str], selector: dict[str, str]
    ) -> tuple[pulumi.Output[str | None], pulumi.Output[str] | None, pulumi.Output[int | None]]:
        """The Service, and with ``router.tls`` the HTTPS entry in front of it: the URL, address and node port."""
        tls = args.router.tls
        backend = router_tls.backend_config(
            name, tls, args.namespace, labels, site=args.site, port=OLLAMA_PORT, parent=self
        )
        service = self._service(name, args, labels, selector, backend)
        node_port = service.spec.apply(_node_port)
        if tls is None:
            return self._url(service, args), None, node_port
        entry = router_tls.https_entry(
            name, tls, args.namespace, labels, service, site=args.site, apis=args.apis, parent=self
        )
        return entry.url, entry.address, node_port

    def _secret(
        self, name: str, args: RouterArgs, labels: dict[str, str]
    ) -> tuple[k8s.core.v1.Secret | None, list[str], pulumi.Output[str] | None]:
        """The keys Secret (None without keys), the keys it holds, and the generated API key if one is."""
        router = args.router
        api = _keys(router.api_keys, "router.apiKeys")
        admin = _keys(router.admin_keys, "router.adminKeys")
        generated_key: pulumi.Output[str] | None = None
        values: dict[str, pulumi.Input[str]] = {}
        if api is not None:
            values[API_KEYS] = pulumi.Output.secret(api)
        elif router.generates_key:
            generated = random.RandomPassword(
                f"{name}-api-key", length=40, special=False, opts=pulumi.ResourceOptions(parent=self)
            )
            generated_key = generated.result
            values[API_KEYS] = generated.result
        if admin is not None:
            values[ADMIN_KEYS] = pulumi.Output.secret(admin)
        if not values:
            return None, [], None
        secret = k8s.core.v1.Secret(
            f"{name}-keys",
            metadata=meta(f"{ROUTER_APP}-keys", args.namespace, labels),
            type="Opaque",
            string_data=values,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return secret, sorted(values), generated_key

    def _autoscaling(
        self,
        name: str,
        args: RouterArgs,
        labels: dict[str, str],
        selector: dict[str, str],
        deployment: k8s.apps.v1.Deployment,
    ) -> None:
        """CPU-based autoscaling from ``router.replicas`` up, and at most one pod down at a time."""
        replicas = args.router.replicas
        target = deployment.metadata.apply(lambda m: str(m.name))
        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa",
            metadata=meta(ROUTER_APP, args.namespace, labels),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name=target
                ),
                min_replicas=replicas,
                max_replicas=max_replicas(replicas),
                metrics=[_cpu_metric()],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        one_at_a_time(f"{name}-pdb", ROUTER_APP, args.namespace, labels, self)

    def _network_policy(self, name: str, args: RouterArgs, labels: dict[str, str]) -> None:
        """In: anyone, on the serving port only. Out: the pools' Ollama on 11434 only (DNS comes with the namespace)."""
        opts = pulumi.ResourceOptions(parent=self)
        network_policy.ingress_policy(
            f"{name}-ingress", args.namespace, labels, ports=[network_policy.port(PORT_NAME)], opts=opts
        )
        network_policy.egress_policy(
            f"{name}-egress",
            args.namespace,
            labels,
            ports=[network_policy.port(OLLAMA_PORT)],
            destinations=[network_policy.pods(ollama_selector())],
            opts=opts,
        )
        router_upstream.upstream_egress(f"{name}-upstream-egress", args.external_pools, args.namespace, labels, opts)

    def _service(
        self,
        name: str,
        args: RouterArgs,
        labels: dict[str, str],
        selector: dict[str, str],
        after: list[pulumi.Resource],
    ) -> k8s.core.v1.Service:
        spec = args.router.service
        balancer = spec.type == "LoadBalancer"
        annotations = {INTERNAL_LB: "Internal"} if balancer and spec.internal else {}
        annotations |= router_tls.service_annotations(args.router.tls, args.site)
        return k8s.core.v1.Service(
            f"{name}-service",
            metadata=meta(ROUTER_APP, args.namespace, labels, annotations or None),
            spec=k8s.core.v1.ServiceSpecArgs(
                type=spec.type,
                selector=selector,
                ports=[
                    k8s.core.v1.ServicePortArgs(name=PORT_NAME, port=spec.port, target_port=PORT_NAME, protocol="TCP")
                ],
                load_balancer_source_ranges=list(spec.source_ranges) or None if balancer else None,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=after or None),
        )

    @staticmethod
    def _url(service: k8s.core.v1.Service, args: RouterArgs) -> pulumi.Output[str | None]:
        spec = args.router.service
        if spec.type == "LoadBalancer":
            return service.status.apply(lambda status: _balancer_url(status, spec.port))
        if spec.type == "NodePort":
            return pulumi.Output.from_input(None)
        return pulumi.Output.concat("http://", ROUTER_APP, ".", args.namespace, f".svc.cluster.local:{spec.port}")


def _balancer_url(status: k8s.core.v1.outputs.ServiceStatus | None, port: int) -> str | None:
    ingress = status.load_balancer.ingress if status and status.load_balancer else None
    if not ingress:
        return None
    host = ingress[0].ip or ingress[0].hostname
    return f"http://{host}:{port}"


def _node_port(spec: k8s.core.v1.outputs.ServiceSpec) -> int | None:
    return spec.ports[0].node_port if spec.type == "NodePort" and spec.ports else None


def max_replicas(replicas: int) -> int:
    """Room to absorb a burst: three times the floor, and at least two more."""
    return max(replicas * 3, replicas + 2)


def _cpu_metric() -> k8s.autoscaling.v2.MetricSpecArgs:
    return k8s.autoscaling.v2.MetricSpecArgs(
        type="Resource",
        resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
            name="cpu",
            target=k8s.autoscaling.v2.MetricTargetArgs(type="Utilization", average_utilization=CPU_TARGET),
        ),
    )
