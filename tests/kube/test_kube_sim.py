"""The Kubernetes API double answers as an API server does, to the client library the router uses."""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from lightkube import ApiError, AsyncClient, KubeConfig
from lightkube.resources.apps_v1 import StatefulSet
from lightkube.resources.coordination_v1 import Lease
from lightkube.types import PatchType

from kube_sim import RunningKubeSim, running_kube_sim

NS = "ollama-fleet"
WAIT_S = 10.0


class Recorder:
    """A workload that only records being started and stopped."""

    def __init__(self) -> None:
        self.events: list[str] = []

    async def start(self) -> None:
        self.events.append("start")

    async def stop(self) -> None:
        self.events.append("stop")


@pytest.fixture
def kube() -> Iterator[RunningKubeSim]:
    with running_kube_sim() as running:
        yield running


def _client(kube: RunningKubeSim, tmp_path: Path) -> AsyncClient:
    return AsyncClient(KubeConfig.from_file(kube.write_kubeconfig(tmp_path / "kubeconfig")), namespace=NS)


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_scaling_up_starts_the_workload_once_its_pods_are_ready_and_zero_stops_it(
    kube: RunningKubeSim, tmp_path: Path
) -> None:
    workload = Recorder()
    target = kube.add_statefulset(NS, "ollama-a100", replicas=0, workload=workload, wake_delay_s=0.05)

    async def scale(replicas: int) -> tuple[int, int]:
        async with _client(kube, tmp_path) as client:
            answer = await client.patch(
                StatefulSet.Scale, "ollama-a100", {"spec": {"replicas": replicas}}, patch_type=PatchType.MERGE
            )
            status = (await client.get(StatefulSet, "ollama-a100")).status
            assert status is not None
            assert answer.spec is not None
            return answer.spec.replicas or 0, status.replicas

    assert asyncio.run(scale(1)) == (1, 1)
    _until(lambda: target.ready == 1)
    assert workload.events == ["start"]
    assert asyncio.run(scale(0)) == (0, 0)
    assert workload.events == ["start", "stop"] and target.ready == 0
    assert [(s.method, s.status) for s in kube.state.scale_writes()] == [("PATCH", 200), ("PATCH", 200)]


def test_a_stale_lease_update_is_a_conflict_and_a_fresh_one_wins(kube: RunningKubeSim, tmp_path: Path) -> None:
    kube.add_lease(NS, "ollama-fleet-activity-a100")

    async def renew_twice() -> int:
        async with _client(kube, tmp_path) as client:
            lease = await client.get(Lease, "ollama-fleet-activity-a100")
            assert lease.spec is not None
            lease.spec.renewTime = datetime.datetime.now(datetime.UTC)
            await client.replace(lease)
            with pytest.raises(ApiError) as stale:
                await client.replace(lease)
            return stale.value.status.code or 0

    assert asyncio.run(renew_twice()) == 409
    assert kube.lease(NS, "ollama-fleet-activity-a100")["spec"]["renewTime"]


def test_it_refuses_a_client_without_the_token_and_serves_no_watch(kube: RunningKubeSim) -> None:
    kube.add_statefulset(NS, "ollama-t4")
    path = f"{kube.url}/apis/apps/v1/namespaces/{NS}/statefulsets/ollama-t4"
    assert httpx.get(path, timeout=WAIT_S).status_code == 401
    auth = {"Authorization": f"Bearer {kube.state.token}"}
    assert httpx.get(path, headers=auth, timeout=WAIT_S).json()["spec"]["replicas"] == 0
    assert httpx.get(path, params={"watch": "true"}, headers=auth, timeout=WAIT_S).status_code == 405
    missing = httpx.get(path.replace("ollama-t4", "ollama-l4"), headers=auth, timeout=WAIT_S)
    assert (missing.status_code, missing.json()["reason"]) == (404, "NotFound")


def test_an_api_server_that_goes_away_comes_back_on_the_same_port(kube: RunningKubeSim) -> None:
    kube.add_statefulset(NS, "ollama-t4")
    path = f"{kube.url}/apis/apps/v1/namespaces/{NS}/statefulsets/ollama-t4/scale"
    auth = {"Authorization": f"Bearer {kube.state.token}"}
    kube.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(path, headers=auth, timeout=WAIT_S)
    kube.start()
    assert httpx.get(path, headers=auth, timeout=WAIT_S).json()["kind"] == "Scale"
