"""The router's own endpoints: liveness, readiness, metrics, fleet status."""

from __future__ import annotations

import httpx

from tests.router.conftest import Fleet


def test_health_and_readiness(fleet: Fleet) -> None:
    assert httpx.get(fleet.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(fleet.url + "/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "model_map_version": fleet.router.state.table.version}


def test_readiness_ignores_backend_health(fleet: Fleet) -> None:
    fleet.t4.stop()
    fleet.l4.stop()
    assert httpx.get(fleet.url + "/readyz").status_code == 200


def test_metrics_count_requests_and_streamed_lines(fleet: Fleet) -> None:
    httpx.post(fleet.url + "/api/chat", json={"model": "mistral:7b", "messages": [{"role": "user", "content": "x"}]})
    httpx.post(fleet.url + "/api/chat", json={"model": "nope", "messages": []})
    response = httpx.get(fleet.url + "/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    lines = {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line[:1] != "#"}
    assert lines['fleet_requests_total{endpoint="chat",method="POST",status="200"}'] >= 1
    assert lines['fleet_requests_total{endpoint="chat",method="POST",status="404"}'] >= 1
    assert lines['fleet_streamed_lines_total{model="mistral:7b",backend="l4"}'] >= 21
    assert lines['fleet_time_to_first_byte_seconds_count{backend="l4"}'] >= 1
    assert lines['fleet_stream_duration_seconds_count{backend="l4"}'] >= 1
    assert lines['fleet_backend_in_flight{backend="l4"}'] == 0
    assert lines['fleet_backend_healthy{backend="l4"}'] == 1
    assert lines['fleet_backend_queued{backend="l4"}'] == 0
    assert lines['fleet_backend_replicas{backend="l4"}'] == 1
    circuit = {state: lines[f'fleet_backend_circuit{{backend="l4",state="{state}"}}'] for state in ("closed", "open")}
    assert circuit == {"closed": 1, "open": 0}
    assert lines["fleet_draining"] == 0
    assert 'fleet_model_map_reloads_total{result="rejected"}' in lines
    assert "fleet_in_flight 1" in text.splitlines()
    assert 'fleet_errors_total{endpoint="chat",reason="bad_request"}' in lines


def test_fleet_status_shows_backends_health_and_the_map_version(fleet: Fleet) -> None:
    httpx.post(fleet.url + "/api/generate", json={"model": "mistral:7b", "prompt": "x", "stream": False})
    fleet.t4.stop()
    httpx.post(fleet.url + "/api/generate", json={"model": "llama3.2:3b", "prompt": "x"})
    status = httpx.get(fleet.url + "/fleet/status").json()
    assert status["model_map_version"] == fleet.router.state.table.version
    assert status["draining"] is False
    backends = {backend["name"]: backend for backend in status["backends"]}
    assert backends["l4"]["health"] == "up" and backends["l4"]["circuit"] == "closed"
    assert backends["t4"]["health"] == "down" and backends["t4"]["last_error"]
    assert backends["l4"]["in_flight"] == 0 and backends["l4"]["url"] == fleet.l4.url
    assert backends["l4"]["healthy"] is True and backends["t4"]["healthy"] is True, "one failure does not open it"
    replicas = backends["t4"]["replicas"]
    assert [r["address"] for r in replicas] == [fleet.t4.url.removeprefix("http://")]
    assert replicas[0]["health"] == "down" and replicas[0]["last_error"].startswith("cannot connect")
    assert status["model_map"]["version"] == status["model_map_version"]
    assert status["model_map"]["last_reload_error"] is None
