"""OllamaBackend: one pool's Ollama servers, their model volumes, and the Services the router calls.

A StatefulSet, not a Deployment: each replica keeps its own volume (``volumeClaimTemplates``, retained
when the set is deleted or scaled down) so models are pulled once per replica and survive restarts and
node replacement. ``pulumi up`` does not wait for these pods: GPU nodes scale from zero and first pulls
take a long time, so the workload and its Services carry ``pulumi.com/skipAwait``; readiness is
reported by Kubernetes, not by a deploy that times out. Only the router may connect (a NetworkPolicy,
enforced by Dataplane V2): Ollama has no authentication and its pull/delete API must stay internal. Its own
connections go to the internet on 443 only (model pulls), never to the metadata server or the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from config.k8s_names import OLLAMA_PORT, POOL_LABEL, ollama_headless_service, ollama_service, ollama_statefulset
from config.stack import PoolSpec
from infra.drivers.check import CHECK_IMAGE
from infra.k8s import network_policy
from infra.k8s.helpers import (
    OLLAMA_COMPONENT,
    app_labels,
    checkov_skips,
    image_skips,
    meta,
    one_at_a_time,
    router_selector,
    selector_labels,
    slow_workload_annotations,
)
from infra.k8s.images import pull_skips
from infra.k8s.placement import PoolPlacement
from infra.workloads.ollama_pod import NO_CPU_LIMIT, PORT_NAME, claim_templates, images, pod_spec


@dataclass(frozen=True, slots=True)
class OllamaBackendArgs:
    """A pool, where its nodes are, and the fleet namespace."""

    pool: PoolSpec
    placement: PoolPlacement
    namespace: pulumi.Input[str]
    check_image: str = CHECK_IMAGE
    """The driver gate's shell image; on GKE, pulled through the Docker Hub mirror like the pool's Ollama."""


def replicas_owned_elsewhere(pool: PoolSpec) -> list[str] | None:
    """A pool that scales to zero: the router owns ``spec.replicas``, so ``pulumi up`` neither wakes nor sleeps it."""
    return ["spec.replicas"] if pool.ollama.scale_to_zero is not None else None


class OllamaBackend(pulumi.ComponentResource):
    """The pool's StatefulSet and its two Services.

    Attributes:
        stateful_set: the Ollama replicas.
        service_name: the ClusterIP Service (one address for the pool).
        headless_service_name: one DNS record per replica, for the router to spread requests itself.
    """

    stateful_set: k8s.apps.v1.StatefulSet
    service_name: pulumi.Output[str]
    headless_service_name: pulumi.Output[str]

    def __init__(self, name: str, args: OllamaBackendArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ollama-fleet:infra:OllamaBackend", name, None, opts)
        pool = args.pool
        labels = app_labels(f"ollama-{pool.name}", OLLAMA_COMPONENT, **{POOL_LABEL: pool.name})
        selector = selector_labels(labels)
        headless = self._service(f"{name}-headless", ollama_headless_service(pool.name), args, labels, headless=True)
        service = self._service(f"{name}-service", ollama_service(pool.name), args, labels, headless=False)
        pod_images = images(pool, args.check_image)
        skips = checkov_skips({"CKV_K8S_11": NO_CPU_LIMIT, **image_skips(pod_images), **pull_skips(pod_images)})
        self.stateful_set = k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata=meta(
                ollama_statefulset(pool.name), args.namespace, labels, {**slow_workload_annotations(), **skips}
            ),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                replicas=pool.ollama.replicas,
                service_name=ollama_headless_service(pool.name),
                pod_management_policy="Parallel",
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                update_strategy=k8s.apps.v1.StatefulSetUpdateStrategyArgs(type="RollingUpdate"),
                persistent_volume_claim_retention_policy=k8s.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs(
                    when_deleted="Retain", when_scaled="Retain"
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=pod_spec(pool, args.placement, selector, args.check_image),
                ),
                volume_claim_templates=claim_templates(pool),
            ),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=replicas_owned_elsewhere(pool)),
        )
        one_at_a_time(f"{name}-pdb", f"ollama-{pool.name}", args.namespace, labels, self)
        self._network_policy(name, args, labels)
        self.service_name = service.metadata.apply(lambda m: str(m.name))
        self.headless_service_name = headless.metadata.apply(lambda m: str(m.name))
        self.register_outputs({"service": self.service_name, "headlessService": self.headless_service_name})

    def _service(
        self, name: str, service: str, args: OllamaBackendArgs, labels: dict[str, str], *, headless: bool
    ) -> k8s.core.v1.Service:
        return k8s.core.v1.Service(
            name,
            metadata=meta(service, args.namespace, labels, slow_workload_annotations()),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                cluster_ip="None" if headless else None,
                publish_not_ready_addresses=False,
                selector=selector_labels(labels),
                ports=[k8s.core.v1.ServicePortArgs(name=PORT_NAME, port=OLLAMA_PORT, target_port=PORT_NAME)],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _network_policy(self, name: str, args: OllamaBackendArgs, labels: dict[str, str]) -> None:
        """In: the router's pods on 11434. Out: the internet on 443 for pulls (never the metadata server)."""
        opts = pulumi.ResourceOptions(parent=self)
        network_policy.ingress_policy(
            f"{name}-ingress",
            args.namespace,
            labels,
            ports=[network_policy.port(OLLAMA_PORT)],
            sources=[network_policy.pods(router_selector())],
            opts=opts,
        )
        network_policy.egress_policy(
            f"{name}-egress",
            args.namespace,
            labels,
            ports=[network_policy.port(network_policy.HTTPS_PORT)],
            destinations=[network_policy.internet()],
            opts=opts,
        )
