"""The access table over HTTP: keys, the admin lock, CORS; refused requests never reach a backend."""

from __future__ import annotations

import httpx
import ollama
import openai
import pytest

from tests.router.conftest import Fleet, fleet_router

USER = {"authorization": "Bearer user-key"}
ADMIN = {"authorization": "Bearer admin-key"}
GENERATE = {"model": "llama3.2:3b", "prompt": "hi", "stream": False}


def test_without_keys_inference_is_open_and_admin_is_locked(fleet: Fleet) -> None:
    assert httpx.post(fleet.url + "/api/generate", json=GENERATE).status_code == 200
    fleet.t4.observed.clear()
    for method, path in [("POST", "/api/pull"), ("DELETE", "/api/delete"), ("POST", "/api/blobs/sha256:00")]:
        response = httpx.request(method, fleet.url + path, json={"model": "llama3.2:3b"}, headers=ADMIN)
        assert response.status_code == 403, path
        assert "admin endpoints are disabled" in response.json()["error"]
    assert fleet.t4.observed.requests == [] and fleet.l4.observed.requests == []


def test_api_keys_gate_inference_in_each_paths_shape(fleet: Fleet) -> None:
    with fleet_router(fleet, api_keys=("user-key",), admin_keys=("admin-key",)) as router:
        missing = httpx.post(router.url + "/api/generate", json=GENERATE)
        assert missing.status_code == 401 and "API key is required" in missing.json()["error"]
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = httpx.post(router.url + "/v1/chat/completions", json=GENERATE, headers={"authorization": "Bearer x"})
        assert wrong.status_code == 401
        assert wrong.json()["error"] == {"message": "invalid API key", "type": "api_error", "param": None, "code": None}
        for path in ("/api/tags", "/metrics", "/fleet/status", "/v1/models"):
            assert httpx.get(router.url + path).status_code == 401, path
        for path in ("/", "/healthz", "/readyz"):
            assert httpx.get(router.url + path).status_code == 200, path
        assert fleet.t4.observed.requests == [] and fleet.l4.observed.requests == []
        assert httpx.post(router.url + "/api/generate", json=GENERATE, headers=USER).status_code == 200
        assert httpx.post(router.url + "/api/generate", json=GENERATE, headers=ADMIN).status_code == 200


def test_the_admin_lock_with_and_without_keys(fleet: Fleet) -> None:
    with fleet_router(fleet, api_keys=("user-key",), admin_keys=("admin-key",)) as router:
        for headers in ({}, USER, {"authorization": "Bearer admin-key-but-longer"}):
            response = httpx.post(router.url + "/api/pull", json={"model": "llama3.2:3b"}, headers=headers)
            assert response.status_code == 403, headers
        assert fleet.t4.observed.requests == []
        response = httpx.post(router.url + "/api/pull", json={"model": "llama3.2:3b", "stream": False}, headers=ADMIN)
        assert response.status_code == 200 and response.json() == {"status": "success"}
        assert fleet.t4.observed.paths() == ["/api/pull"]


def test_the_official_clients_carry_keys(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_API_KEY", "user-key")
    with fleet_router(fleet, api_keys=("user-key",)) as router:
        with ollama.Client(host=router.url) as client:
            assert client.generate(model="llama3.2:3b", prompt="hi").done
        with openai.OpenAI(base_url=router.url + "/v1", api_key="user-key", max_retries=0) as oai:
            assert oai.models.list().data
        with (
            openai.OpenAI(base_url=router.url + "/v1", api_key="wrong", max_retries=0) as oai,
            pytest.raises(openai.AuthenticationError),
        ):
            oai.models.list()


def test_cors_preflight_comes_before_the_key_check(fleet: Fleet) -> None:
    with fleet_router(fleet, api_keys=("user-key",), origins=("https://chat.example.com",)) as router:
        preflight = httpx.options(
            router.url + "/api/chat",
            headers={
                "origin": "https://chat.example.com",
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == "https://chat.example.com"
        assert "authorization" in preflight.headers["access-control-allow-headers"]
        foreign = httpx.get(router.url + "/api/tags", headers={"origin": "https://evil.example", **USER})
        assert foreign.status_code == 403
        assert fleet.t4.observed.requests == [] and fleet.l4.observed.requests == []
        local = httpx.get(router.url + "/api/tags", headers={"origin": "http://localhost:3000", **USER})
        assert local.status_code == 200
        assert local.headers["access-control-allow-origin"] == "http://localhost:3000"
