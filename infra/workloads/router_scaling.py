"""RouterScaling: what the router needs to sleep and wake pools that scale to zero, and nothing more.

The router's own ServiceAccount, bound to a Role that names exactly the sleeping pools' StatefulSets
(``statefulsets/scale``: get, patch, update; ``statefulsets``: get, for their status) and their activity
Leases (get, update). RBAC cannot limit ``create`` by resource name
(https://kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-resources), so the stack
creates the Leases and the router only reads and renews them; Pulumi creates each Lease once and then
leaves its ``spec`` to the routers. The router polls and opens no watches, so no ``list``/``watch`` verb.
Its pods may reach the Kubernetes API server on HTTPS (a NetworkPolicy): on GKE the control plane's
endpoint only; on an existing cluster, whose API server address the stack does not know, the private
ranges on 443 and 6443 (k3s and kubeadm serve the API there).

Only stacks with a ``scaleToZero`` pool get any of this: the others keep a router with no token at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from config.k8s_names import ollama_statefulset
from config.scaling import activity_lease
from config.stack import PoolSpec, StackConfig
from infra.k8s import network_policy
from infra.k8s.helpers import ROUTER_APP, meta, selector_labels

SCALE_VERBS = ("get", "patch", "update")
LEASE_VERBS = ("get", "update")
API_SERVER_PORTS = (443, 6443)
"""GKE's control plane answers on 443; kubeadm and k3s API servers on 6443."""
POLICY_NAME = f"{ROUTER_APP}-kube-api-egress"
TOKEN_MOUNTED = "the router scales pools to zero through the API with a Role naming only their objects"
"""The checkov skip reason on the router's Deployment, whose token is mounted only in such stacks."""


def scaling_pools(stack: StackConfig) -> list[PoolSpec]:
    """The pools the router may sleep and wake."""
    return [pool for pool in stack.pools if pool.external is None and pool.ollama.scale_to_zero is not None]


@dataclass(frozen=True, slots=True)
class RouterScalingArgs:
    """The pools that scale to zero, the fleet namespace, the router's labels, and the API server's address
    when known (GKE)."""

    pools: Sequence[PoolSpec]
    namespace: pulumi.Input[str]
    labels: Mapping[str, str]
    api_server: pulumi.Input[str] | None = None


class RouterScaling(pulumi.ComponentResource):
    """The router's ServiceAccount, its Role and RoleBinding, the activity Leases and the API egress policy.

    Attributes:
        service_account_name: the ServiceAccount the router's pods run as (their token is mounted).
    """

    service_account_name: pulumi.Output[str]

    def __init__(self, name: str, args: RouterScalingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("ollama-fleet:infra:RouterScaling", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        pools = args.pools
        account = k8s.core.v1.ServiceAccount(
            f"{name}-account",
            metadata=meta(ROUTER_APP, args.namespace, args.labels),
            automount_service_account_token=False,
            opts=child,
        )
        self._leases(name, args, pools)
        role = k8s.rbac.v1.Role(
            f"{name}-role",
            metadata=meta(f"{ROUTER_APP}-scaler", args.namespace, args.labels),
            rules=role_rules(pools),
            opts=child,
        )
        k8s.rbac.v1.RoleBinding(
            f"{name}-binding",
            metadata=meta(f"{ROUTER_APP}-scaler", args.namespace, args.labels),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="Role", name=role.metadata.apply(lambda m: str(m.name))
            ),
            subjects=[
                k8s.rbac.v1.SubjectArgs(
                    kind="ServiceAccount", name=account.metadata.apply(lambda m: str(m.name)), namespace=args.namespace
                )
            ],
            opts=child,
        )
        self._api_egress(name, args)
        self.service_account_name = account.metadata.apply(lambda m: str(m.name))
        self.register_outputs({"serviceAccount": self.service_account_name})

    def _leases(self, name: str, args: RouterScalingArgs, pools: Sequence[PoolSpec]) -> None:
        """One Lease per pool; Pulumi creates it and then leaves ``spec`` (renewTime, holder) to the routers."""
        for pool in pools:
            spec = pool.ollama.scale_to_zero
            assert spec is not None  # scaling_pools keeps only these
            k8s.coordination.v1.Lease(
                f"{name}-lease-{pool.name}",
                metadata=meta(activity_lease(pool.name), args.namespace, args.labels),
                spec=k8s.coordination.v1.LeaseSpecArgs(lease_duration_seconds=spec.idle_after_s),
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["spec"]),
            )

    def _api_egress(self, name: str, args: RouterScalingArgs) -> None:
        """The router's pods may open HTTPS to the Kubernetes API server, and nothing else this policy adds."""
        if args.api_server is not None:
            cidr = pulumi.Output.from_input(args.api_server).apply(lambda host: f"{host}/32")
            peers = [k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr=cidr))]
            ports = [network_policy.port(443)]
        else:
            peers = [
                k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr=cidr))
                for cidr in network_policy.PRIVATE_RANGES
            ]
            ports = [network_policy.port(number) for number in API_SERVER_PORTS]
        k8s.networking.v1.NetworkPolicy(
            f"{name}-kube-api-egress",
            metadata=meta(POLICY_NAME, args.namespace, args.labels),
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector_labels(args.labels)),
                policy_types=["Egress"],
                egress=[k8s.networking.v1.NetworkPolicyEgressRuleArgs(to=peers, ports=ports)],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )


def router_scaling(name: str, args: RouterScalingArgs, parent: pulumi.Resource) -> RouterScaling | None:
    """The router's scaling access as a child of ``parent``; None when no pool scales to zero."""
    return RouterScaling(name, args, pulumi.ResourceOptions(parent=parent)) if args.pools else None


def role_rules(pools: Sequence[PoolSpec]) -> list[k8s.rbac.v1.PolicyRuleArgs]:
    """Scale and read exactly these StatefulSets; read and renew exactly their Leases."""
    sets = [ollama_statefulset(pool.name) for pool in pools]
    return [
        k8s.rbac.v1.PolicyRuleArgs(
            api_groups=["apps"], resources=["statefulsets/scale"], resource_names=sets, verbs=list(SCALE_VERBS)
        ),
        k8s.rbac.v1.PolicyRuleArgs(api_groups=["apps"], resources=["statefulsets"], resource_names=sets, verbs=["get"]),
        k8s.rbac.v1.PolicyRuleArgs(
            api_groups=["coordination.k8s.io"],
            resources=["leases"],
            resource_names=[activity_lease(pool.name) for pool in pools],
            verbs=list(LEASE_VERBS),
        ),
    ]
