"""A test double of the Kubernetes API server: just what ollama-fleet's router uses, over real HTTP.

Never a replacement for a cluster. It serves, on 127.0.0.1, a StatefulSet's GET, its ``scale``
subresource (GET, PATCH, PUT) and ``status``, and coordination.k8s.io/v1 Leases (create, get, update
with resourceVersion conflicts answered 409, merge patch), behind a bearer token; it writes a standard
kubeconfig pointing at itself. A StatefulSet scaled up from zero starts its workload (a simulated
Ollama, see :mod:`kube_sim.workloads`) after a configurable delay that stands for a GPU node, its driver
and a model load, and stops it at zero. Tests, ``make demo`` and two-router runs share one double.

Public interface::

    from kube_sim import running_kube_sim

    with running_kube_sim() as kube:
        sim = kube.add_ollama_pool("ollama-fleet", "ollama-a100", SimConfig(name="a100"), wake_delay_s=1)
        sim.url                            # the pool's address, asleep or awake
        kube.add_lease("ollama-fleet", "ollama-fleet-activity-a100")
        kube.write_kubeconfig(path)        # KUBECONFIG=path python -m router ...
        kube.state.scale_writes()          # what clients changed
"""

from __future__ import annotations

from kube_sim.api import ApiState, Seen
from kube_sim.objects import StatefulSetState, Workload
from kube_sim.server import RunningKubeSim, running_kube_sim

__all__ = ["ApiState", "RunningKubeSim", "Seen", "StatefulSetState", "Workload", "running_kube_sim"]
