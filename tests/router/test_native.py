"""The native Ollama API through the router, with the official ollama client and raw HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import ollama
import pytest

from tests.router.conftest import Fleet


@pytest.fixture
def client(fleet: Fleet) -> Iterator[ollama.Client]:
    """The official client, pointed at the router."""
    with ollama.Client(host=fleet.url, timeout=30) as official:
        yield official


def test_root_answers_like_ollama(fleet: Fleet) -> None:
    response = httpx.get(fleet.url + "/")
    assert (response.status_code, response.text) == (200, "Ollama is running")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-request-id"]
    head = httpx.head(fleet.url + "/")
    assert head.status_code == 200 and head.content == b""


def test_request_ids_are_taken_from_the_request_or_made(fleet: Fleet) -> None:
    response = httpx.get(fleet.url + "/api/tags", headers={"x-request-id": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    made = {httpx.get(fleet.url + "/api/tags").headers["x-request-id"] for _ in range(3)}
    assert len(made) == 3


def test_version_is_the_lowest_backend_version(fleet: Fleet) -> None:
    response = httpx.get(fleet.url + "/api/version")
    assert response.json() == {"version": "0.12.3"}
    assert httpx.head(fleet.url + "/api/version").status_code == 200


def test_tags_merge_routed_models_and_aliases(fleet: Fleet, client: ollama.Client) -> None:
    listed = client.list()
    names = [model.model or "" for model in listed.models]
    assert sorted(names) == sorted(
        ["llama3.2:latest", "llama3.2:3b", "qwen2.5:7b", "mistral:7b", "hf.co/acme/tiny:Q4_K_M", "chat:latest"]
    )
    assert "phi3:mini" not in names, "a model the map does not route is not listed"
    stamps = [model.modified_at for model in listed.models if model.modified_at is not None]
    assert len(stamps) == len(names) and stamps == sorted(stamps, reverse=True)
    raw = httpx.get(fleet.url + "/api/tags").json()["models"]
    alias = next(entry for entry in raw if entry["name"] == "chat:latest")
    target = next(entry for entry in raw if entry["name"] == "llama3.2:3b")
    assert {**alias, "name": "llama3.2:3b", "model": "llama3.2:3b"} == target


def test_ps_lists_loaded_models_and_never_null(client: ollama.Client) -> None:
    assert isinstance(client.ps().models, list)
    client.generate(model="mistral:7b", prompt="hi")
    loaded = [model.model for model in client.ps().models]
    assert "mistral:7b" in loaded


@pytest.mark.parametrize("name", ["llama3.2", "LLAMA3.2:latest", "registry.ollama.ai/library/llama3.2:latest"])
def test_name_variants_route_to_the_same_pool(fleet: Fleet, name: str) -> None:
    response = httpx.post(fleet.url + "/api/generate", json={"model": name, "prompt": "hi", "stream": False})
    assert response.status_code == 200, response.text
    assert response.headers["x-fleet-backend"] == "t4"
    seen = fleet.t4.observed.requests[-1]
    assert seen.path == "/api/generate"
    assert seen.json()["model"] == name, "the body reaches the backend as the client wrote it"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/generate", {"model": "llama3.2:3b", "prompt": "why is the sky blue?"}),
        ("/api/chat", {"model": "qwen2.5:7b", "messages": [{"role": "user", "content": "hello"}]}),
        ("/api/generate", {"model": "mistral:7b", "prompt": "hi", "stream": False}),
    ],
)
def test_answers_are_byte_identical_to_the_backends(fleet: Fleet, path: str, body: dict[str, object]) -> None:
    backend = fleet.t4 if body["model"] == "llama3.2:3b" else fleet.l4
    direct = httpx.post(backend.url + path, json=body)
    routed = httpx.post(fleet.url + path, json=body)
    assert routed.status_code == direct.status_code == 200
    assert routed.content == direct.content
    assert routed.headers["content-type"] == direct.headers["content-type"]
    assert routed.headers["x-fleet-backend"] == backend.config.name


def test_streams_arrive_line_by_line_through_the_official_client(client: ollama.Client) -> None:
    parts = list(client.chat(model="llama3.2:3b", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert len(parts) == 21 and parts[-1].done
    assert all(part.model == "llama3.2:3b" for part in parts)


def test_embeddings_and_show(fleet: Fleet, client: ollama.Client) -> None:
    assert len(client.embed(model="mistral:7b", input=["a", "b"]).embeddings) == 2
    assert client.embeddings(model="llama3.2:3b", prompt="a").embedding
    shown = client.show("qwen2.5:7b")
    assert shown.details is not None and shown.details.family
    legacy = httpx.post(fleet.url + "/api/show", json={"name": "qwen2.5:7b"})
    assert legacy.status_code == 200 and legacy.headers["x-fleet-backend"] == "l4"


def test_the_backend_sees_its_own_host_and_never_the_key(fleet: Fleet) -> None:
    headers = {"authorization": "Bearer secret", "x-request-id": "rid-1", "connection": "keep-alive"}
    httpx.post(fleet.url + "/api/generate", json={"model": "llama3.2:3b", "prompt": "x"}, headers=headers)
    seen = fleet.t4.observed.requests[-1].headers
    assert seen["host"] == fleet.t4.url.removeprefix("http://")
    assert "authorization" not in seen
    assert seen["x-request-id"] == "rid-1"


def test_aliases_are_rewritten_before_forwarding(fleet: Fleet) -> None:
    response = httpx.post(fleet.url + "/api/generate", json={"model": "chat", "prompt": "hi", "stream": False})
    assert response.status_code == 200
    assert fleet.t4.observed.requests[-1].json()["model"] == "llama3.2:3b"
    assert response.json()["model"] == "llama3.2:3b"


def test_priority_then_retry_on_the_next_pool_before_the_first_byte(fleet: Fleet) -> None:
    body = {"model": "qwen2.5:7b", "prompt": "hi", "stream": False}
    assert httpx.post(fleet.url + "/api/generate", json=body).headers["x-fleet-backend"] == "l4"
    fleet.l4.stop()
    response = httpx.post(fleet.url + "/api/generate", json=body)
    assert response.status_code == 200
    assert response.headers["x-fleet-backend"] == "t4"
    fleet.l4.start()
    fleet.l4.faults.status = 503
    response = httpx.post(fleet.url + "/api/generate", json=body)
    assert (response.status_code, response.headers["x-fleet-backend"]) == (200, "t4")


def test_unload_reaches_every_pool_of_the_route(fleet: Fleet) -> None:
    response = httpx.post(fleet.url + "/api/generate", json={"model": "qwen2.5:7b", "keep_alive": 0, "prompt": ""})
    assert response.status_code == 200
    assert response.json()["done_reason"] == "unload"
    assert set(response.headers["x-fleet-backend"].split(", ")) == {"l4", "t4"}
    for sim in (fleet.t4, fleet.l4):
        assert sim.observed.paths() == ["/api/generate"]
    chat = httpx.post(fleet.url + "/api/chat", json={"model": "qwen2.5:7b", "keep_alive": "0s", "messages": []})
    assert chat.status_code == 200
    assert fleet.t4.observed.paths()[-1] == fleet.l4.observed.paths()[-1] == "/api/chat"
