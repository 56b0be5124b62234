"""A sleeping pool for the router's tests: the Kubernetes API double, a simulated Ollama as the pool's pods,
an always-awake pool beside it, and the model map that names them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from kube_sim import RunningKubeSim, StatefulSetState, running_kube_sim
from ollama_sim import RunningSim, SimConfig, SimulatedOllama, running_sim

NS = "ollama-fleet"
SLEEPER = "a100"
SLEEPER_MODEL = "qwen2.5:32b"
AWAKE = "l4"
AWAKE_MODEL = "llama3.1:8b"
GUARD = 15.0
"""Client timeout: a bound against hangs, never a timing assertion."""


@dataclass(frozen=True)
class ScaleFleet:
    """The double, the sleeping pool's simulator and StatefulSet, the awake pool, and a kubeconfig."""

    kube: RunningKubeSim
    sleeper: SimulatedOllama
    awake: RunningSim
    kubeconfig: Path

    @property
    def statefulset(self) -> StatefulSetState:
        """The sleeping pool's StatefulSet at the double."""
        return self.kube.statefulset(NS, f"ollama-{SLEEPER}")

    def scale_writes(self) -> list[int]:
        """Every replica count a client wrote to the pool's scale subresource, in order."""
        return [replicas for _, _, replicas in self.kube.state.scaled]

    def document(
        self,
        *,
        idle_after_s: float = 600.0,
        wake_timeout_s: float = 10.0,
        also_awake: bool = False,
        awake_first: bool = False,
    ) -> dict[str, Any]:
        """The model map: the sleeper serves its model (and the awake pool too, after or before it, if asked)."""
        scale = {
            "namespace": NS,
            "statefulset": f"ollama-{SLEEPER}",
            "replicas": 1,
            "idle_after_s": idle_after_s,
            "wake_timeout_s": wake_timeout_s,
        }
        sleeper_targets = [SLEEPER, AWAKE] if also_awake else [SLEEPER]
        sleeper_targets = [AWAKE, SLEEPER] if awake_first else sleeper_targets
        return {
            "backends": [
                {"name": SLEEPER, "url": self.sleeper.url, "scale": scale},
                {"name": AWAKE, "url": self.awake.url},
            ],
            "routes": [
                {"model": SLEEPER_MODEL, "backends": sleeper_targets},
                {"model": AWAKE_MODEL, "backends": [AWAKE]},
            ],
        }


@contextmanager
def scale_fleet(
    tmp_path: Path, *, replicas: int = 0, wake_delay_s: float | None = 0.0, tokens: int = 5
) -> Iterator[ScaleFleet]:
    """The sleeping pool (at ``replicas``; ``tokens`` per answer at 20 a second) with its Lease, and the
    awake pool, for the ``with`` block."""
    with running_kube_sim() as kube, running_sim(SimConfig(name=AWAKE, models=(AWAKE_MODEL, SLEEPER_MODEL))) as awake:
        sim = SimConfig(name=SLEEPER, models=(SLEEPER_MODEL,), token_rate=20, tokens=tokens)
        sleeper = kube.add_ollama_pool(NS, f"ollama-{SLEEPER}", sim, replicas=replicas, wake_delay_s=wake_delay_s)
        kube.add_lease(NS, f"ollama-fleet-activity-{SLEEPER}")
        yield ScaleFleet(kube, sleeper, awake, kube.write_kubeconfig(tmp_path / "kubeconfig", NS))


def chat(url: str, model: str, *, timeout: float = GUARD, **extra: Any) -> httpx.Response:
    """One non-streamed chat through the router."""
    body = {"model": model, "messages": [{"role": "user", "content": "hello"}], "stream": False, **extra}
    return httpx.post(url + "/api/chat", json=body, timeout=timeout)


def scaling_status(url: str) -> dict[str, Any]:
    """The sleeping pool's entry in ``/fleet/status``."""
    document = httpx.get(url + "/fleet/status", timeout=GUARD).json()
    entry: dict[str, Any] = next(item for item in document["scaling"] if item["backend"] == SLEEPER)
    return entry


def metric(url: str, line_prefix: str) -> float:
    """The value of the first ``/metrics`` line that starts with ``line_prefix`` (0 when absent)."""
    for line in httpx.get(url + "/metrics", timeout=GUARD).text.splitlines():
        if line.startswith(line_prefix):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
