"""Google Cloud: the cluster (created on GKE, or adopted), its node pools, and the router's image in Artifact Registry.

Owns everything that exists outside Kubernetes and the Kubernetes provider the other rooms deploy through.
"""
