"""The double on its own thread and event loop, for synchronous tests, scripts and router processes.

Usage::

    with running_kube_sim() as kube:
        kube.add_statefulset("ollama-fleet", "ollama-t4", replicas=0, workload=..., wake_delay_s=0.5)
        kube.add_lease("ollama-fleet", "ollama-fleet-activity-t4")
        path = kube.write_kubeconfig(tmp_path / "kubeconfig")   # KUBECONFIG for the router
        kube.statefulset("ollama-fleet", "ollama-t4").ready, kube.state.scale_writes()
        kube.stop(); kube.start()   # an API server that goes away and comes back on the same port
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
import yaml

from kube_sim.api import ApiState, api_app
from kube_sim.objects import JsonObject, StatefulSetState, Workload
from kube_sim.workloads import free_port, ollama_workload
from ollama_sim import SimConfig, SimulatedOllama

T = TypeVar("T")
CALL_TIMEOUT_S = 10.0
TOKEN = "kube-sim-token"


class RunningKubeSim:
    """A Kubernetes API test double listening on 127.0.0.1 (what :func:`running_kube_sim` yields)."""

    def __init__(self, token: str = TOKEN) -> None:
        self.state = ApiState(token=token)
        self.port = free_port()
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="kube-sim", daemon=True)
        self._closed = False
        self._thread.start()

    @property
    def url(self) -> str:
        """The API server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the double's loop and wait for it (bounded)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(CALL_TIMEOUT_S)

    def start(self) -> None:
        """Listen (again) on the same port; no-op if listening."""
        self.call(self._start())

    async def _start(self) -> None:
        if self._server is not None:
            return
        config = uvicorn.Config(
            api_app(self.state), host="127.0.0.1", port=self.port, lifespan="off", log_level="warning", loop="none"
        )
        self._server = uvicorn.Server(config)
        self._serving = asyncio.ensure_future(self._server.serve())
        while not self._server.started:
            if self._serving.done():
                self._serving.result()
            await asyncio.sleep(0.01)

    def stop(self) -> None:
        """Stop listening, like an API server that is down (the objects and workloads stay as they are)."""
        self.call(self._stop())

    async def _stop(self) -> None:
        server, serving, self._server, self._serving = self._server, self._serving, None, None
        if server is not None and serving is not None:
            server.should_exit = True
            await serving

    def add_statefulset(
        self,
        namespace: str,
        name: str,
        *,
        replicas: int = 0,
        workload: Workload | None = None,
        wake_delay_s: float | None = 0.0,
    ) -> StatefulSetState:
        """Declare a StatefulSet; with ``replicas`` > 0 its workload starts now and it is ready at once."""
        target = StatefulSetState(namespace, name, replicas=0, workload=workload, wake_delay_s=wake_delay_s)

        async def declare() -> None:
            self.state.statefulsets[(namespace, name)] = target
            await target.ready_now(replicas)

        self.call(declare())
        return target

    def add_ollama_pool(
        self, namespace: str, statefulset: str, sim: SimConfig, *, replicas: int = 0, wake_delay_s: float | None = 0.0
    ) -> SimulatedOllama:
        """A StatefulSet whose pods are one simulated Ollama (its URL is fixed now, asleep or not)."""
        workload = ollama_workload(sim)
        self.add_statefulset(namespace, statefulset, replicas=replicas, workload=workload, wake_delay_s=wake_delay_s)
        return workload

    def finish_wake(self, namespace: str, name: str) -> None:
        """Make a scaled-up StatefulSet ready now (its workload starts), whatever its wake delay."""
        target = self.statefulset(namespace, name)
        self.call(target.ready_now(target.replicas))

    def statefulset(self, namespace: str, name: str) -> StatefulSetState:
        """A StatefulSet's live state (read it; change it through the API)."""
        return self.state.statefulset(namespace, name)

    def add_lease(self, namespace: str, name: str, spec: JsonObject | None = None) -> JsonObject:
        """Create a Lease, as the stack does before any router runs."""
        return self.state.leases.create(namespace, {"metadata": {"name": name}, "spec": dict(spec or {})})

    def lease(self, namespace: str, name: str) -> JsonObject:
        """A Lease as the API would return it."""
        return self.state.leases.get(namespace, name)

    def write_kubeconfig(self, path: Path, namespace: str = "default") -> Path:
        """A standard kubeconfig pointing at the double, for ``KUBECONFIG``."""
        document = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kube-sim", "cluster": {"server": self.url}}],
            "users": [{"name": "kube-sim", "user": {"token": self.state.token}}],
            "contexts": [
                {"name": "kube-sim", "context": {"cluster": "kube-sim", "user": "kube-sim", "namespace": namespace}}
            ],
            "current-context": "kube-sim",
        }
        path.write_text(yaml.safe_dump(document), encoding="utf-8")
        return path

    def close(self) -> None:
        """Stop listening, stop every workload, then the loop and the thread; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            self.call(self._close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(CALL_TIMEOUT_S)
            self._loop.close()

    async def _close(self) -> None:
        await self._stop()
        for target in self.state.statefulsets.values():
            await target.close()


@contextmanager
def running_kube_sim(token: str = TOKEN) -> Iterator[RunningKubeSim]:
    """Run the double for the ``with`` block."""
    kube = RunningKubeSim(token)
    try:
        kube.start()
        yield kube
    finally:
        kube.close()
