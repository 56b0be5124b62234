"""Every refusal Ollama's handlers give (server/routes.go) as the router gives it, per endpoint, and failures of
the backends.

The table is the contract: path, body, status, and the exact message Ollama itself would answer with.
Refusals are decided by the router, so the backends must never see these requests.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.router.conftest import Fleet, fleet_router

NATIVE_REFUSALS: list[tuple[str, Any, int, str]] = [
    ("/api/generate", b"", 400, "missing request body"),
    ("/api/generate", b'{"model": "llama3.2:3b"', 400, "unexpected EOF"),
    ("/api/generate", b"{model}", 400, "invalid character 'm' looking for beginning of object key string"),
    ("/api/generate", b"[1]", 400, "json: cannot unmarshal array into Go value of type api.GenerateRequest"),
    ("/api/generate", {"prompt": "x"}, 404, "model '' not found"),
    ("/api/generate", {"model": "bad name!"}, 400, "invalid model name"),
    ("/api/generate", {"model": "nope:1b"}, 404, "model 'nope:1b' not found"),
    (
        "/api/generate",
        {"model": 7},
        400,
        "json: cannot unmarshal number into Go struct field GenerateRequest.model of type string",
    ),
    ("/api/chat", b"", 400, "missing request body"),
    ("/api/chat", {"messages": []}, 400, "model is required"),
    ("/api/chat", {"model": "bad name!"}, 400, "invalid model name"),
    ("/api/chat", {"model": "Nope"}, 404, "model 'Nope' not found"),
    ("/api/embed", {"input": "x"}, 404, "model '' not found"),
    ("/api/embed", {"model": "nope"}, 404, "model 'nope' not found"),
    ("/api/embeddings", {"prompt": "x"}, 400, "model is required"),
    ("/api/embeddings", {"model": "nope"}, 404, 'model "nope" not found, try pulling it first'),
    ("/api/show", {}, 400, "model is required"),
    ("/api/show", {"name": "nope"}, 404, "model 'nope' not found"),
]

OPENAI_REFUSALS: list[tuple[str, Any, int, str, str]] = [
    ("/v1/chat/completions", b"", 400, "missing request body", "invalid_request_error"),
    ("/v1/chat/completions", {"messages": []}, 400, "model is required", "invalid_request_error"),
    ("/v1/chat/completions", {"model": "nope"}, 404, "model 'nope' not found", "not_found_error"),
    ("/v1/completions", {"prompt": "x"}, 404, "model '' not found", "not_found_error"),
    ("/v1/embeddings", {"model": "nope", "input": "x"}, 404, "model 'nope' not found", "not_found_error"),
    ("/v1/responses", {"input": "x"}, 400, "model is required", "invalid_request_error"),
    ("/v1/made/up", {"model": "nope"}, 404, "model 'nope' not found", "not_found_error"),
    ("/v1/made/up", b"", 404, "404 page not found", "not_found_error"),
]


def _post(url: str, body: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(url, content=content, headers={"content-type": "application/json"})


def _nothing_forwarded(fleet: Fleet) -> None:
    assert fleet.t4.observed.requests == [] and fleet.l4.observed.requests == []


@pytest.mark.parametrize(("path", "body", "status", "message"), NATIVE_REFUSALS)
def test_native_refusals_use_ollamas_words(fleet: Fleet, path: str, body: Any, status: int, message: str) -> None:
    response = _post(fleet.url + path, body)
    assert (response.status_code, response.json()) == (status, {"error": message})
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert "x-fleet-backend" not in response.headers
    _nothing_forwarded(fleet)


@pytest.mark.parametrize("case", OPENAI_REFUSALS, ids=[f"{c[0]}-{c[2]}" for c in OPENAI_REFUSALS])
def test_openai_refusals_use_openais_shape(fleet: Fleet, case: tuple[str, Any, int, str, str]) -> None:
    path, body, status, message, kind = case
    response = _post(fleet.url + path, body)
    assert response.status_code == status
    assert response.json() == {"error": {"message": message, "type": kind, "param": None, "code": None}}
    _nothing_forwarded(fleet)


def test_gins_plain_answers_for_unknown_paths_and_methods(fleet: Fleet) -> None:
    for path in ("/api/status", "/api/nothing", "/nothing"):
        response = httpx.get(fleet.url + path)
        assert (response.status_code, response.text) == (404, "404 page not found"), path
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
    wrong = httpx.get(fleet.url + "/api/generate")
    assert (wrong.status_code, wrong.text) == (405, "405 method not allowed")
    assert httpx.head(fleet.url + "/api/ps").status_code == 405
    _nothing_forwarded(fleet)


def test_bodies_over_the_limit_are_refused(fleet: Fleet) -> None:
    with fleet_router(fleet, max_body_bytes=1024) as router:
        big = {"model": "llama3.2:3b", "prompt": "x" * 2000}
        response = _post(router.url + "/api/generate", big)
        assert response.status_code == 413 and "limit is 1024" in response.json()["error"]

        def chunks() -> Any:
            yield b'{"model": "llama3.2:3b", "prompt": "'
            yield b"y" * 2000
            yield b'"}'

        streamed = httpx.post(router.url + "/api/generate", content=chunks())
        assert streamed.status_code == 413
        openai = _post(router.url + "/v1/chat/completions", big)
        assert openai.status_code == 413 and openai.json()["error"]["type"] == "api_error"
    _nothing_forwarded(fleet)


def test_an_unreachable_backend_is_a_502_naming_it(fleet: Fleet) -> None:
    fleet.l4.stop()
    response = _post(fleet.url + "/api/generate", {"model": "mistral:7b", "prompt": "x"})
    assert response.status_code == 502
    assert response.json()["error"].startswith("backend l4 is unreachable")
    assert response.headers["x-fleet-backend"] == "l4"
    openai = _post(fleet.url + "/v1/chat/completions", {"model": "mistral:7b", "messages": []})
    assert openai.status_code == 502 and openai.json()["error"]["type"] == "api_error"


def test_a_slow_first_byte_is_a_504(fleet: Fleet) -> None:
    fleet.l4.faults.first_byte_delay = 3.0
    with fleet_router(fleet, first_byte_timeout=0.3) as router:
        response = _post(router.url + "/api/chat", {"model": "mistral:7b", "messages": []})
        assert response.status_code == 504
        assert response.json() == {"error": "backend l4 timed out: no first byte within 0.3 s"}
        assert fleet.t4.observed.requests == [], "a first-byte timeout is not retried elsewhere"


def test_backend_errors_pass_through_with_their_status(fleet: Fleet) -> None:
    fleet.t4.faults.status = 500
    response = _post(fleet.url + "/api/generate", {"model": "llama3.2:3b", "prompt": "x"})
    direct = _post(fleet.t4.url + "/api/generate", {"model": "llama3.2:3b", "prompt": "x"})
    assert (response.status_code, response.content) == (direct.status_code, direct.content)
    assert response.headers["x-fleet-backend"] == "t4"


def test_the_default_backend_takes_unknown_models(fleet: Fleet) -> None:
    with fleet_router(fleet, document=fleet.document(default_backend="t4")) as router:
        response = _post(router.url + "/api/generate", {"model": "phi3:mini", "prompt": "x", "stream": False})
        assert (response.status_code, response.headers["x-fleet-backend"]) == (200, "t4")
        listed = httpx.get(router.url + "/api/tags").json()["models"]
        assert "phi3:mini" not in [m["name"] for m in listed], "listings show routed models only"
