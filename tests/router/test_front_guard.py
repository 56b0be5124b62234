"""What a black-box probe got through the router's front door, over raw sockets: each is refused in the path's
error shape, and the backends never see it.

- ``X-Fleet-Backend`` (forcing a backend) needs an admin key;
- dot segments and encoded separators in a path, and methods OpenAI-style endpoints do not use on ``/v1``;
- a header the router decides on, sent twice; client-sent ``Forwarded``/``X-Forwarded-*`` never reach Ollama.
"""

from __future__ import annotations

import json

import pytest

from tests.router.conftest import Fleet, fleet_router
from tests.router.rawhttp import Fetched, raw

GENERATE = json.dumps({"model": "qwen2.5:7b", "prompt": "hi", "stream": False}).encode()
CHAT = json.dumps({"model": "qwen2.5:7b", "messages": [{"role": "user", "content": "hi"}]}).encode()


def _host(fleet: Fleet) -> tuple[str, str]:
    return ("host", fleet.url.removeprefix("http://"))


def _nothing_reached_a_backend(fleet: Fleet) -> None:
    assert fleet.t4.observed.requests == [] and fleet.l4.observed.requests == []


def _ollama_error(fetched: Fetched) -> str:
    return str(json.loads(fetched.body)["error"])


def _openai_error(fetched: Fetched) -> dict[str, object]:
    error: dict[str, object] = json.loads(fetched.body)["error"]
    return error


@pytest.mark.parametrize("authorization", [None, "Bearer user-key"])
def test_x_fleet_backend_without_an_admin_key_is_403_and_goes_nowhere(fleet: Fleet, authorization: str | None) -> None:
    with fleet_router(fleet, api_keys=("user-key",), admin_keys=("admin-key",)) as router:
        headers = [("host", router.url.removeprefix("http://")), ("x-fleet-backend", "t4")]
        headers += [("authorization", authorization)] if authorization else []
        native = raw(router.url, "POST", "/api/generate", headers, GENERATE)
        openai = raw(router.url, "POST", "/v1/chat/completions", headers, CHAT)
    expected = 401 if authorization is None else 403
    assert (native.status, openai.status) == (expected, expected)
    if authorization is not None:
        assert "X-Fleet-Backend" in _ollama_error(native)
        assert _openai_error(openai)["type"] == "api_error" and "admin key" in str(_openai_error(openai)["message"])
    _nothing_reached_a_backend(fleet)


def test_x_fleet_backend_is_refused_on_a_router_without_keys(fleet: Fleet) -> None:
    fetched = raw(fleet.url, "POST", "/api/generate", [_host(fleet), ("x-fleet-backend", "t4")], GENERATE)
    assert fetched.status == 403 and "admin key" in _ollama_error(fetched)
    _nothing_reached_a_backend(fleet)


def test_x_fleet_backend_with_an_admin_key_picks_the_backend(fleet: Fleet) -> None:
    with fleet_router(fleet, api_keys=("user-key",), admin_keys=("admin-key",)) as router:
        headers = [("host", router.url.removeprefix("http://")), ("x-fleet-backend", "t4")]
        fetched = raw(router.url, "POST", "/api/generate", [*headers, ("authorization", "Bearer admin-key")], GENERATE)
    assert fetched.status == 200 and fetched.headers["x-fleet-backend"] == "t4"
    assert fleet.l4.observed.requests == [] and len(fleet.t4.observed.requests) == 1


PATHS: list[tuple[str, str, int]] = [
    ("POST", "/v1/../api/pull", 404),
    ("POST", "/v1/%2e%2e/api/pull", 404),
    ("POST", "/v1/./chat/completions", 404),
    ("POST", "/api/generate/..", 404),
    ("POST", "/api%2Fgenerate", 400),
    ("POST", "/v1/chat%2fcompletions", 400),
    ("POST", "/v1/x%5c..%5capi%5cpull", 400),
    ("POST", "/v1/x\\..\\api", 400),
    ("TRACE", "/v1/x", 405),
    ("PUT", "/v1/anything", 405),
    ("PATCH", "/v1/anything", 405),
    ("CONNECT", "/v1/anything", 405),
]


@pytest.mark.parametrize(("method", "path", "status"), PATHS)
def test_tricky_paths_and_methods_never_reach_a_backend(fleet: Fleet, method: str, path: str, status: int) -> None:
    body = json.dumps({"model": "qwen2.5:7b", "name": "qwen2.5:7b"}).encode()
    fetched = raw(fleet.url, method, path, [_host(fleet)], body)
    assert fetched.status == status, bytes(fetched.body)
    if path.startswith("/v1/") and status != 404:
        assert "message" in _openai_error(fetched)
    _nothing_reached_a_backend(fleet)


def test_an_encoded_slash_in_an_openai_model_id_still_works(fleet: Fleet) -> None:
    fetched = raw(fleet.url, "GET", "/v1/models/hf.co%2Facme%2Ftiny:Q4_K_M", [_host(fleet)])
    assert fetched.status == 200 and json.loads(fetched.body)["id"] == "hf.co/acme/tiny:Q4_K_M"


def test_the_passthrough_still_forwards_delete(fleet: Fleet) -> None:
    body = json.dumps({"model": "mistral:7b"}).encode()
    fetched = raw(fleet.url, "DELETE", "/v1/vector_stores/x", [_host(fleet)], body)
    assert fetched.headers.get("x-fleet-backend") == "l4"
    assert [(r.method, r.path) for r in fleet.l4.observed.requests] == [("DELETE", "/v1/vector_stores/x")]


REPEATED = ["authorization", "origin", "host", "x-api-key", "x-fleet-backend"]
VALUES = {
    "authorization": "Bearer a",
    "origin": "http://localhost",
    "host": "localhost",
    "x-api-key": "a",
    "x-fleet-backend": "t4",
}


@pytest.mark.parametrize("name", REPEATED)
@pytest.mark.parametrize("path", ["/api/generate", "/v1/chat/completions", "/v1/messages"])
def test_a_decisive_header_sent_twice_is_400(fleet: Fleet, name: str, path: str) -> None:
    headers = [] if name == "host" else [_host(fleet)]
    headers += [(name, VALUES[name]), (name.title(), VALUES[name].replace("a", "b"))]
    fetched = raw(fleet.url, "POST", path, headers, CHAT)
    assert fetched.status == 400
    document = json.loads(fetched.body)
    if path == "/v1/messages":
        assert document["type"] == "error" and document["error"]["type"] == "invalid_request_error"
    message = document["error"]["message"] if path.startswith("/v1/") else document["error"]
    assert f"the {name} header is sent more than once" in message
    _nothing_reached_a_backend(fleet)


def test_client_forwarding_headers_and_keys_do_not_reach_ollama(fleet: Fleet) -> None:
    spoofed = [
        ("x-forwarded-for", "10.9.9.9"),
        ("x-forwarded-host", "admin.internal"),
        ("x-forwarded-proto", "https"),
        ("forwarded", "for=10.9.9.9;host=admin.internal"),
        ("x-real-ip", "10.9.9.9"),
        ("x-api-key", "secret"),
    ]
    fetched = raw(fleet.url, "POST", "/api/generate", [_host(fleet), *spoofed, ("x-kept", "yes")], GENERATE)
    assert fetched.status == 200
    (seen,) = fleet.l4.observed.requests
    assert seen.headers["x-kept"] == "yes"
    assert not {name for name, _ in spoofed} & set(seen.headers)
