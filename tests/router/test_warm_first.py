"""Warm-first over real sockets: replicas that hold one model each stop swapping models back and forth.

Two simulated Ollamas each have room for one loaded model (``OLLAMA_MAX_LOADED_MODELS=1``) and Ollama's
scheduler simulated (loads take time, a new model evicts the old one). A client alternates two models.
Balanced blindly, every request lands on a replica holding the other model and reloads; warm-first
loads each model once, on its own replica, and then only answers.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import httpx

from ollama_sim import SimConfig, running_sim
from ollama_sim.scheduler import GB, SchedulerConfig
from tests.router.harness import model_map, running_router

QWEN = "qwen2.5:7b"
LLAMA = "llama3.1:8b"
REQUESTS = 8
GUARD = 10.0
SCHEDULER = SchedulerConfig(vram_bytes=int(20 * GB), load_seconds_per_gb=0.01, max_loaded_models=1)


def _alternate(balance: str) -> tuple[dict[str, Counter[str]], httpx.Response, httpx.Response]:
    """Send the alternating requests under ``balance``; the loads per sim, the metrics and the status."""
    config = SimConfig(models=(QWEN, LLAMA), tokens=5, scheduler=SCHEDULER)
    with (
        running_sim(config, name="a") as first,
        running_sim(config, name="b") as second,
        running_router(
            model_map(
                {"a": first.url, "b": second.url},
                {model: [{"name": "a", "priority": 0}, {"name": "b", "priority": 0}] for model in (QWEN, LLAMA)},
            ),
            balance=balance,
        ) as router,
    ):
        for index in range(REQUESTS):
            body = {"model": (QWEN, LLAMA)[index % 2], "prompt": f"question {index}", "stream": index % 4 < 2}
            response = httpx.post(router.url + "/api/generate", json=body, timeout=GUARD)
            assert response.status_code == 200, response.text
        metrics = httpx.get(router.url + "/metrics", timeout=GUARD)
        status = httpx.get(router.url + "/fleet/status", timeout=GUARD)
        loads = {}
        for name, sim in (("a", first), ("b", second)):
            scheduler = sim.server.app.scheduler
            assert scheduler is not None
            loads[name] = Counter(scheduler.loads)
    return loads, metrics, status


def _total(metrics: str, name: str) -> int:
    return sum(int(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith(name + "{"))


def test_two_one_slot_replicas_serve_alternating_models_with_only_the_two_unavoidable_loads() -> None:
    loads, metrics, status = _alternate("warm-first")
    assert sum(sum(counts.values()) for counts in loads.values()) == 2, loads
    assert all(len(counts) == 1 for counts in loads.values()), f"one model per replica: {loads}"
    assert _total(metrics.text, "fleet_cold_starts_total") == 2
    assert _total(metrics.text, "fleet_warm_hits_total") == REQUESTS - 2
    replicas = [backend["replicas"][0] for backend in status.json()["backends"]]
    held = sorted(model for replica in replicas for model in replica["resident"])
    assert held == sorted(f"registry.ollama.ai/library/{m}" for m in (QWEN, LLAMA))
    for replica in replicas:
        (model,) = replica["resident"]
        assert replica["models"][model]["load_seconds"] > 0, "the observed load time is shown"


def test_blind_balancing_reloads_on_almost_every_request() -> None:
    loads, _, _ = _alternate("least-outstanding")
    assert sum(sum(counts.values()) for counts in loads.values()) >= REQUESTS - 1, loads


def _resident(router_url: str) -> dict[str, list[str]]:
    status = httpx.get(router_url + "/fleet/status", timeout=GUARD).json()
    return {backend["name"]: backend["replicas"][0]["resident"] for backend in status["backends"]}


def _wait_for(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + GUARD
    while not check():
        assert time.monotonic() < deadline, "the router's view did not converge"
        time.sleep(0.02)


def test_polls_show_what_another_client_loaded_and_unloads_through_the_router_forget_at_once() -> None:
    config = SimConfig(models=(QWEN, LLAMA), tokens=5, scheduler=SCHEDULER)
    key = f"registry.ollama.ai/library/{LLAMA}"
    with (
        running_sim(config, name="a") as first,
        running_sim(config, name="b") as second,
        running_router(
            model_map({"a": first.url, "b": second.url}, {LLAMA: [{"name": "a"}, {"name": "b", "priority": 0}]}),
            ps_interval=0.05,
        ) as router,
    ):
        assert httpx.post(second.url + "/api/generate", json={"model": LLAMA}, timeout=GUARD).status_code == 200
        _wait_for(lambda: _resident(router.url)["b"] == [key])
        answer = httpx.post(router.url + "/api/generate", json={"model": LLAMA, "prompt": "hi"}, timeout=GUARD)
        assert answer.headers["x-fleet-backend"] == "b", "sent where another client had loaded it"
        unload = httpx.post(router.url + "/api/generate", json={"model": LLAMA, "keep_alive": 0}, timeout=GUARD)
        assert unload.status_code == 200
        assert _resident(router.url)["b"] == [], "an unload answered by the replica is believed at once"
        assert httpx.post(second.url + "/api/generate", json={"model": LLAMA}, timeout=GUARD).status_code == 200
        _wait_for(lambda: _resident(router.url)["b"] == [key])
        second.stop()
        _wait_for(lambda: _resident(router.url)["b"] == [])
        scheduler = first.server.app.scheduler
        assert scheduler is not None and sum(scheduler.loads.values()) == 0
