"""Kubernetes building blocks the other rooms share: placement on a pool's nodes, labels and probes,
NetworkPolicies, image pull rules, GKE's custom resources. Plain builders, no components.
"""
