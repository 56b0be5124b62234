"""Backends failing before the first byte: retry on the next one, circuits, active probes, fast refusals."""

from __future__ import annotations

import json
from typing import Any

import httpx
import ollama
import openai
import pytest

from tests.router.conftest import Fleet, fleet_router
from tests.router.harness import model_map

GUARD = 10.0
"""Client timeout: a bound against hangs, not a timing assertion."""

CHAT = {"messages": [{"role": "user", "content": "hello"}], "stream": False}


def _chat(url: str, model: str, path: str = "/api/chat") -> httpx.Response:
    return httpx.post(url + path, json={"model": model, **CHAT}, timeout=GUARD)


def _status(url: str) -> dict[str, dict[str, Any]]:
    document = httpx.get(url + "/fleet/status", timeout=GUARD).json()
    return {backend["name"]: backend for backend in document["backends"]}


def _metric(url: str, name: str) -> float:
    for line in httpx.get(url + "/metrics", timeout=GUARD).text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_killed_backend_is_routed_around_then_probed_back(fleet: Fleet) -> None:
    """qwen2.5:7b prefers l4; with l4 killed every request still succeeds on t4, and l4's circuit opens."""
    settings = {"circuit_failures": 2, "circuit_open_seconds": 60.0, "probe_interval": 0.2, "probe_timeout": 1.0}
    with fleet_router(fleet, **settings) as router:
        assert _chat(router.url, "qwen2.5:7b").headers["x-fleet-backend"] == "l4"
        fleet.l4.stop()
        for _ in range(4):
            response = _chat(router.url, "qwen2.5:7b")
            assert (response.status_code, response.headers["x-fleet-backend"]) == (200, "t4")
        l4 = router.state.backend("l4")
        assert l4 is not None
        assert fleet.t4.observed.wait_until(lambda _: l4.circuit.value == "open", timeout=GUARD)
        status = _status(router.url)["l4"]
        assert (status["circuit"], status["health"], status["healthy"]) == ("open", "down", False)
        assert "cannot connect" in status["last_error"] or "probe" in status["last_error"]
        assert _metric(router.url, 'fleet_backend_circuit{backend="l4",state="open"}') == 1
        assert _metric(router.url, 'fleet_backend_healthy{backend="l4"}') == 0
        assert _metric(router.url, 'fleet_retries_total{backend="l4",reason="unreachable"}') >= 1

        fleet.l4.start()
        assert fleet.l4.observed.wait_until(lambda _: l4.circuit.value == "closed", timeout=GUARD), "probe closes it"
        assert fleet.l4.observed.wait_until(lambda seen: "/api/version" in seen.paths(), timeout=GUARD)
        assert _status(router.url)["l4"]["healthy"] is True
        assert _chat(router.url, "qwen2.5:7b").headers["x-fleet-backend"] == "l4", "traffic returns to l4"


def test_the_only_backend_down_is_a_fast_json_502_then_503(fleet: Fleet) -> None:
    """mistral:7b is served by l4 alone: refusals come at once, in each path's error shape."""
    with fleet_router(fleet, circuit_failures=2, circuit_open_seconds=60.0) as router:
        fleet.l4.stop()
        first = _chat(router.url, "mistral:7b")
        assert first.status_code == 502 and first.json()["error"].startswith("backend l4 is unreachable")
        assert first.headers["content-type"] == "application/json; charset=utf-8"
        _chat(router.url, "mistral:7b")
        refused = _chat(router.url, "mistral:7b")
        assert refused.status_code == 503, "the circuit is open: no request is sent to l4"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "circuit open: l4" in refused.json()["error"]
        openai_refused = _chat(router.url, "mistral:7b", "/v1/chat/completions")
        assert openai_refused.status_code == 503 and openai_refused.headers["retry-after"]
        assert openai_refused.json()["error"]["type"] == "api_error"
        assert _metric(router.url, 'fleet_errors_total{endpoint="chat",reason="circuit_open"}') == 1
        with ollama.Client(host=router.url, timeout=GUARD) as client, pytest.raises(ollama.ResponseError) as caught:
            client.chat(model="mistral:7b", messages=[{"role": "user", "content": "hi"}])
        assert caught.value.status_code == 503


def test_busy_and_failing_answers_move_to_the_next_backend(fleet: Fleet) -> None:
    fleet.l4.faults.status = 503
    response = _chat(fleet.url, "qwen2.5:7b")
    assert (response.status_code, response.headers["x-fleet-backend"]) == (200, "t4")
    assert [r.path for r in fleet.l4.observed.requests] == ["/api/chat"], "l4 was asked first"
    fleet.t4.faults.status = 503
    both = _chat(fleet.url, "qwen2.5:7b")
    direct = _chat(fleet.t4.url, "qwen2.5:7b")
    assert (both.status_code, both.content) == (503, direct.content), "the last backend's own answer, as sent"
    assert both.headers["x-fleet-backend"] == "t4"


def test_a_backend_without_the_model_falls_back_to_the_next(fleet: Fleet) -> None:
    """The map says l4 serves phi3:mini first, but only t4 has it: l4's 404 is not the client's answer."""
    routes = {"phi3:mini": ["l4", "t4"], "nowhere:1b": ["l4", "t4"]}
    document = model_map({"t4": fleet.t4.url, "l4": fleet.l4.url}, routes)
    with fleet_router(fleet, document=document) as router:
        native = _chat(router.url, "phi3:mini")
        assert (native.status_code, native.headers["x-fleet-backend"]) == (200, "t4")
        assert json.loads(native.content)["model"] == "phi3:mini"
        with openai.OpenAI(base_url=router.url + "/v1", api_key="unused", max_retries=0, timeout=GUARD) as client:
            completion = client.chat.completions.create(model="phi3:mini", messages=[{"role": "user", "content": "x"}])
        assert completion.model == "phi3:mini"
        assert [r.path for r in fleet.l4.observed.requests] == ["/api/chat", "/v1/chat/completions"]
        assert _metric(router.url, 'fleet_retries_total{backend="l4",reason="model_not_found"}') == 2
        missing = _chat(router.url, "nowhere:1b")
        assert (missing.status_code, missing.json()) == (404, {"error": "model 'nowhere:1b' not found"})
        assert missing.headers["x-fleet-backend"] == "t4", "the last backend's own 404"
        assert router.state.backend("l4") is not None and _status(router.url)["l4"]["healthy"] is True


def test_other_404s_are_not_retried(fleet: Fleet) -> None:
    """An unknown /v1 path answered 404 by the first backend is that backend's answer."""
    body = {"model": "qwen2.5:7b"}
    response = httpx.post(fleet.url + "/v1/made/up", json=body, timeout=GUARD)
    assert (response.status_code, response.headers["x-fleet-backend"]) == (404, "l4")
    assert fleet.t4.observed.requests == []


def test_no_retry_after_the_retry_deadline(fleet: Fleet) -> None:
    """With no time left for another attempt, the first failure is the answer."""
    with fleet_router(fleet, retry_deadline=0.0) as router:
        fleet.l4.stop()
        response = _chat(router.url, "qwen2.5:7b")
        assert (response.status_code, response.headers["x-fleet-backend"]) == (502, "l4")
        assert fleet.t4.observed.requests == []
