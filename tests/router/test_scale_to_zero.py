"""Scale to zero through the router: wake on demand, sleep when idle, and every way a wait can end.

Each test runs the Kubernetes API double (``kube_sim``) over real HTTP, with a simulated Ollama as the
sleeping pool's pods, and points the router at it with a kubeconfig, as ``KUBECONFIG`` does outside a
cluster. Waits are bounded (``eventually``); nothing asserts how long anything took.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.router.harness import eventually, running_router
from tests.router.scale_fleet import (
    AWAKE,
    AWAKE_MODEL,
    NS,
    SLEEPER,
    SLEEPER_MODEL,
    chat,
    metric,
    scale_fleet,
    scaling_status,
)

WAITERS = 5
HELD_S = 60.0
"""Wake timeout and client timeout where a test holds requests on purpose: bounds against hangs only."""


@pytest.fixture(autouse=True)
def _no_ambient_cluster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test sets KUBECONFIG itself; nothing from the machine running the tests leaks in."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))


def test_the_first_requests_share_one_wake_and_are_served_once_the_pool_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with scale_fleet(tmp_path, wake_delay_s=None) as fleet:
        monkeypatch.setenv("KUBECONFIG", str(fleet.kubeconfig))
        with running_router(fleet.document(wake_timeout_s=HELD_S)) as router:
            answers: list[httpx.Response] = []
            threads = [
                threading.Thread(target=lambda: answers.append(chat(router.url, SLEEPER_MODEL, timeout=HELD_S)))
                for _ in range(WAITERS)
            ]
            for thread in threads:
                thread.start()
            pool = router.state.scaler.pools[SLEEPER]
            assert eventually(lambda: pool.held == WAITERS), "the requests were not all held"
            assert scaling_status(router.url)["state"] == "waking"
            fleet.kube.finish_wake(NS, f"ollama-{SLEEPER}")
            for thread in threads:
                thread.join(HELD_S)
            assert [a.status_code for a in answers] == [200] * WAITERS, [a.text for a in answers]
            assert {a.headers["x-fleet-backend"] for a in answers} == {SLEEPER}
            assert fleet.scale_writes() == [1], "one wake, one scale call"
            status = scaling_status(router.url)
            assert status["state"] == "awake" and status["last_activity"] is not None
            assert metric(router.url, f'fleet_scale_wakes_total{{backend="{SLEEPER}"}}') == 1
            assert metric(router.url, f'fleet_scale_wake_seconds_count{{backend="{SLEEPER}"}}') == 1
            served = f'fleet_scale_held_requests_total{{backend="{SLEEPER}",outcome="served"}}'
            assert metric(router.url, served) == WAITERS
        asked = {(seen.method, seen.path.rsplit("/", 1)[-1]) for seen in fleet.kube.state.seen}
        assert asked <= {
            ("GET", f"ollama-{SLEEPER}"),
            ("PATCH", "scale"),
            ("GET", f"ollama-fleet-activity-{SLEEPER}"),
            ("PUT", f"ollama-fleet-activity-{SLEEPER}"),
        }, "only what the router's Role allows: no create, no list, no watch"
        assert not any("watch" in seen.query for seen in fleet.kube.state.seen)


def test_an_idle_pool_is_put_to_sleep_and_its_pods_stop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with scale_fleet(tmp_path, replicas=1) as fleet:
        monkeypatch.setenv("KUBECONFIG", str(fleet.kubeconfig))
        with running_router(fleet.document(idle_after_s=1.0)) as router:
            assert eventually(lambda: fleet.scale_writes() == [0]), "the idle pool never slept"
            assert not fleet.sleeper.serving and fleet.statefulset.ready == 0
            assert fleet.kube.lease(NS, f"ollama-fleet-activity-{SLEEPER}")["spec"]["renewTime"], "no clock started"
            assert scaling_status(router.url)["state"] == "asleep"
            answer = chat(router.url, SLEEPER_MODEL)
            assert (answer.status_code, answer.headers["x-fleet-backend"]) == (200, SLEEPER)
            assert eventually(lambda: fleet.scale_writes() == [0, 1, 0]), "the pool never slept again after use"
            assert metric(router.url, f'fleet_scale_sleeps_total{{backend="{SLEEPER}"}}') == 2


def test_an_awake_lower_priority_backend_serves_while_the_preferred_pool_wakes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with scale_fleet(tmp_path, wake_delay_s=None) as fleet:
        monkeypatch.setenv("KUBECONFIG", str(fleet.kubeconfig))
        with running_router(fleet.document(also_awake=True)) as router:
            first = chat(router.url, SLEEPER_MODEL)
            assert (first.status_code, first.headers["x-fleet-backend"]) == (200, AWAKE)
            assert eventually(lambda: fleet.scale_writes() == [1]), "the preferred pool was not woken"
            fleet.kube.finish_wake(NS, f"ollama-{SLEEPER}")
            assert eventually(lambda: scaling_status(router.url)["state"] == "awake")
            later = chat(router.url, SLEEPER_MODEL)
            assert (later.status_code, later.headers["x-fleet-backend"]) == (200, SLEEPER)
            assert fleet.scale_writes() == [1]


def _circuit(url: str, backend: str) -> str:
    document = httpx.get(url + "/fleet/status", timeout=15).json()
    return str(next(item["circuit"] for item in document["backends"] if item["name"] == backend))


def test_a_sleeping_pool_wakes_when_the_preferred_backend_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with scale_fleet(tmp_path) as fleet:
        monkeypatch.setenv("KUBECONFIG", str(fleet.kubeconfig))
        fleet.awake.stop()
        probes: dict[str, Any] = {"probe_interval": 0.1, "probe_timeout": 1.0, "circuit_failures": 1}
        with running_router(fleet.document(awake_first=True), circuit_open_seconds=60.0, **probes) as router:
            assert eventually(lambda: _circuit(router.url, AWAKE) == "open"), "the dead backend's circuit never opened"
            answer = chat(router.url, SLEEPER_MODEL)
            assert (answer.status_code, answer.headers["x-fleet-backend"]) == (200, SLEEPER)
            assert fleet.scale_writes() == [1]


def test_a_wake_that_outlasts_wake_timeout_is_a_503_with_retry_after_naming_the_pool(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with scale_fleet(tmp_path, wake_delay_s=None) as fleet:
        monkeypatch.setenv("KUBECONFIG", str(fleet.kubeconfig))
        with running_router(fleet.document(wake_timeout_s=0.5)) as router:
            answer = chat(router.url, SLEEPER_MODEL)
            assert answer.status_code == 503
            assert int(answer.headers["retry-after"]) >= 1
            message = answer.json()["error"]
            assert f"pool {SLEEPER} is waking up" in message
            assert "its pod to become ready (a GPU node, its NVIDIA driver and Ollama starting)" in message
            openai_shaped = httpx.post(
                router.url + "/v1/chat/completions",
                json={"model": SLEEPER_MODEL, "messages": [{"role": "user", "content": "hi"}]},
                timeout=15,
            )
            assert openai_shaped.status_code == 503
            assert f"pool {SLEEPER}" in openai_shaped.json()["error"]["message"]
            timed_out = f'fleet_scale_held_requests_total{{backend="{SLEEPER}",outcome="timed_out"}}'
            assert metric(router.url, timed_out) == 2
            assert fleet.scale_writes() == [1]


def test_a_client_that_leaves_during_the_wake_lets_it_finish_for_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with scale_fleet(tmp_path, wake_delay_s=None) as fleet:
        monkeypatch.setenv("KUBECONFIG", str(fleet.kubeconfig))
        with running_router(fleet.document()) as router:
            pool = router.state.scaler.pools[SLEEPER]
            with pytest.raises(httpx.ReadTimeout):
                chat(router.url, SLEEPER_MODEL, timeout=0.5)
            left = f'fleet_scale_held_requests_total{{backend="{SLEEPER}",outcome="left"}}'
            assert eventually(lambda: metric(router.url, left) == 1), "the router did not notice the client leave"
            assert pool.held == 0 and pool.waking, "the wake stopped with its only client"
            fleet.kube.finish_wake(NS, f"ollama-{SLEEPER}")
            assert eventually(lambda: scaling_status(router.url)["state"] == "awake")
            answer = chat(router.url, SLEEPER_MODEL)
            assert (answer.status_code, answer.headers["x-fleet-backend"]) == (200, SLEEPER)
            assert fleet.scale_writes() == [1]


def test_without_the_api_awake_pools_serve_and_a_sleeping_one_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with scale_fleet(tmp_path) as fleet:
        monkeypatch.setenv("KUBECONFIG", str(fleet.kubeconfig))
        fleet.kube.stop()
        with running_router(fleet.document()) as router:
            awake = chat(router.url, AWAKE_MODEL)
            assert (awake.status_code, awake.headers["x-fleet-backend"]) == (200, AWAKE)
            asleep = chat(router.url, SLEEPER_MODEL)
            assert asleep.status_code == 503 and int(asleep.headers["retry-after"]) >= 1
            message = asleep.json()["error"]
            assert f"pool {SLEEPER} is asleep and could not be woken" in message
            assert "the Kubernetes API is unreachable" in message
            assert scaling_status(router.url)["last_error"]
            assert fleet.scale_writes() == []
