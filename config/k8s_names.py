"""Names of what the stack creates, shared by infra (which creates them) and the model map (which uses them).

Keeping them in one place is what makes the derived model map's URLs match the deployed Services.
"""

from __future__ import annotations

OLLAMA_PORT = 11434
SYSTEM_POOL = "system"
"""The GKE node pool that runs the router and cluster services; no GPU pool may take its name."""
POOL_LABEL = "ollama-fleet/pool"
"""Node label (and the key of the NoSchedule taint) that marks a node as belonging to one pool."""

DRIVER_NAMESPACE_SUFFIX = "-drivers"


def ollama_service(pool: str) -> str:
    """The pool's ClusterIP Service: one stable address for the whole pool."""
    return f"ollama-{pool}"


def ollama_statefulset(pool: str) -> str:
    """The pool's Ollama StatefulSet (the object a scale-to-zero router sleeps and wakes)."""
    return f"ollama-{pool}"


def ollama_headless_service(pool: str) -> str:
    """The pool's headless Service: one DNS record per replica, so the router can spread per request."""
    return f"ollama-{pool}-headless"


def backend_url(service: str, namespace: str) -> str:
    """In-cluster base URL of an Ollama Service."""
    return f"http://{service}.{namespace}.svc.cluster.local:{OLLAMA_PORT}"


def driver_namespace(namespace: str) -> str:
    """The driver DaemonSets live apart from the workloads: they are privileged and nothing else is."""
    return f"{namespace}{DRIVER_NAMESPACE_SUFFIX}"
