"""One request, one model, as Ollama reads it; and no body, however hostile, makes the router answer 500.

Ollama decodes bodies with Go's ``encoding/json``: keys match fields case-insensitively (with Go's folding of
U+212A KELVIN SIGN and U+017F LONG S) and the last duplicate wins. The router refuses a body that spells a
routing field two ways, reads a single odd spelling as Go does, and forwards a body that means at Ollama
what it routed on. Each refused body must never reach a backend.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from router.edge.gofields import go_fold
from tests.router.conftest import Fleet
from tests.router.harness import captured_log

KELVIN_KEEP_ALIVE = "\u212aeep_alive"
LONG_S_MESSAGES = "me\u017f\u017fages"
HI = [{"role": "user", "content": "hi"}]

AMBIGUOUS: list[tuple[str, str]] = [
    ("/api/generate", '{"model": "llama3.2:3b", "Model": "mistral:7b", "prompt": "hi"}'),
    ("/api/generate", '{"MODEL": "mistral:7b", "model": "llama3.2:3b", "prompt": "hi"}'),
    ("/api/generate", f'{{"model": "qwen2.5:7b", "keep_alive": "5m", "{KELVIN_KEEP_ALIVE}": 0}}'),
    ("/api/chat", f'{{"model": "llama3.2:3b", "messages": {json.dumps(HI)}, "{LONG_S_MESSAGES}": []}}'),
    ("/api/show", '{"model": "llama3.2:3b", "Model": "mistral:7b"}'),
    ("/api/embed", '{"model": "llama3.2:3b", "mOdEl": "mistral:7b", "input": "x"}'),
    ("/v1/chat/completions", f'{{"model": "llama3.2:3b", "Model": "mistral:7b", "messages": {json.dumps(HI)}}}'),
    ("/v1/completions", '{"model": "llama3.2:3b", "MODEL": "mistral:7b", "prompt": "hi"}'),
    ("/v1/embeddings", '{"model": "llama3.2:3b", "Model": "mistral:7b", "input": "x"}'),
    ("/v1/responses", '{"model": "llama3.2:3b", "Model": "mistral:7b", "input": "x"}'),
    ("/v1/made/up", '{"model": "llama3.2:3b", "Model": "mistral:7b"}'),
    (
        "/v1/messages",
        f'{{"model": "llama3.2:3b", "MODEL": "mistral:7b", "max_tokens": 9, "messages": {json.dumps(HI)}}}',
    ),
]


def _post(url: str, body: str | bytes) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return httpx.post(url, content=content, headers={"content-type": "application/json"}, timeout=30)


def _message(path: str, response: httpx.Response) -> str:
    error = response.json()["error"]
    return str(error["message"] if path.startswith("/v1/") else error)


@pytest.mark.parametrize(("path", "body"), AMBIGUOUS)
def test_a_routing_field_spelled_two_ways_is_refused_before_any_backend(fleet: Fleet, path: str, body: str) -> None:
    response = _post(fleet.url + path, body)
    assert response.status_code == 400, response.text
    assert "ambiguous request body" in _message(path, response)
    assert fleet.t4.observed.requests == [] and fleet.l4.observed.requests == []


def test_go_folding_matches_only_what_go_matches() -> None:
    assert go_fold("Model") == go_fold("MODEL") == "MODEL"
    assert go_fold(KELVIN_KEEP_ALIVE) == "KEEP_ALIVE" and go_fold(LONG_S_MESSAGES) == "MESSAGES"
    assert go_fold("me\u00dfages") is None  # 'ß' is no 's' to Go, though Python's upper() makes it "SS"
    assert go_fold("\uff2dodel") is None  # a full-width M is not an M


def test_a_single_odd_spelling_is_routed_as_ollama_reads_it(fleet: Fleet) -> None:
    response = _post(fleet.url + "/api/generate", '{"Model": "mistral:7b", "prompt": "hi", "stream": false}')
    assert response.status_code == 200, response.text
    assert response.headers["x-fleet-backend"] == "l4" and response.json()["model"] == "mistral:7b"
    assert fleet.t4.observed.requests == [] and len(fleet.l4.observed.requests) == 1


def test_exact_duplicates_take_the_last_value_as_go_does(fleet: Fleet) -> None:
    response = _post(fleet.url + "/api/generate", '{"model": "mistral:7b", "model": "llama3.2:3b", "stream": false}')
    assert response.status_code == 200 and response.headers["x-fleet-backend"] == "t4"
    assert fleet.l4.observed.requests == []


def test_an_alias_rewrite_leaves_one_spelling_that_means_the_routed_model(fleet: Fleet) -> None:
    response = _post(fleet.url + "/v1/chat/completions", f'{{"MODEL": "chat", "messages": {json.dumps(HI)}}}')
    assert response.status_code == 200, response.text
    forwarded: dict[str, Any] = fleet.t4.observed.requests[0].json()
    spellings = {key: value for key, value in forwarded.items() if go_fold(key) == "MODEL"}
    assert spellings == {"MODEL": "llama3.2:3b"}


def test_an_unload_spelled_with_a_kelvin_sign_goes_to_every_backend_of_the_route(fleet: Fleet) -> None:
    response = _post(fleet.url + "/api/generate", f'{{"model": "qwen2.5:7b", "{KELVIN_KEEP_ALIVE}": 0}}')
    assert response.status_code == 200, response.text
    assert len(fleet.t4.observed.requests) == 1 and len(fleet.l4.observed.requests) == 1
    assert response.json()["done_reason"] == "unload"


DEEP = "[" * 2000 + "]" * 2000
HOSTILE: list[tuple[str, bytes, str]] = [
    ("/api/generate", f'{{"model": "llama3.2:3b", "options": {DEEP}}}'.encode(), "exceeded max depth"),
    ("/api/chat", ("[" * 5000).encode(), ""),
    ("/v1/chat/completions", b'{"model": "llama3.2:3b", "seed": ' + b"9" * 1_000_000 + b"}", "number"),
    ("/v1/made/up", f'{{"model": {DEEP}}}'.encode(), "exceeded max depth"),
    ("/v1/messages", b'{"model": "llama3.2:3b", "max_tokens": ' + b"7" * 1_000_000 + b"}", "number"),
]


@pytest.mark.parametrize(("path", "body", "wording"), HOSTILE)
def test_deep_nesting_and_huge_numbers_are_a_400_with_one_log_line(
    fleet: Fleet, path: str, body: bytes, wording: str
) -> None:
    with captured_log() as log:
        response = _post(fleet.url + path, body)
    assert response.status_code == 400, response.text
    assert wording in _message(path, response)
    if path.startswith("/v1/"):
        assert response.json()["error"]["type"] == "invalid_request_error"
    if path == "/v1/messages":
        assert response.json()["type"] == "error"
    assert log.messages() == ["request"] and log.records[0]["status"] == 400
    assert fleet.t4.observed.requests == [] and fleet.l4.observed.requests == []
