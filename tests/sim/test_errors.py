"""Error statuses and wording exactly as Ollama and gin give them."""

from __future__ import annotations

import socket

import httpx
import ollama
import openai
import pytest

from ollama_sim import RunningSim

EMBEDDER = "nomic-embed-text"
ASK = [{"role": "user", "content": "x"}]
CLIENT_ERRORS = [
    (lambda c: c.generate(model="nope", prompt="hi"), 404, "model 'nope' not found"),
    (lambda c: c.chat(model="Nope:Latest", messages=[]), 404, "model 'Nope:Latest' not found"),
    (lambda c: c.show("ghost"), 404, "model 'ghost' not found"),
    (lambda c: c.embed(model="ghost", input="x"), 404, "model 'ghost' not found"),
    (lambda c: c.embeddings(model="ghost", prompt="x"), 404, 'model "ghost" not found, try pulling it first'),
    (lambda c: c.chat(model="bad name!", messages=[]), 400, "invalid model name"),
    (lambda c: c.generate(model=EMBEDDER, prompt="x"), 400, f'"{EMBEDDER}" does not support generate'),
    (lambda c: c.chat(model=EMBEDDER, messages=ASK), 400, f'"{EMBEDDER}" does not support chat'),
    (lambda c: c.chat(model="qwen2.5:7b", messages=ASK, think=True), 400, '"qwen2.5:7b" does not support thinking'),
    (
        lambda c: c.generate(model="qwen2.5:7b", prompt="x", top_logprobs=21),
        400,
        "top_logprobs must be between 0 and 20",
    ),
]


@pytest.mark.parametrize(("call", "status", "message"), CLIENT_ERRORS)
def test_client_sees_ollamas_status_and_message(client: ollama.Client, call: object, status: int, message: str) -> None:
    with pytest.raises(ollama.ResponseError) as refused:
        call(client)  # type: ignore[operator]
    assert (refused.value.status_code, refused.value.error) == (status, message)


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/chat", b"", "missing request body"),
        ("/api/generate", b"  \n", "missing request body"),
        ("/api/chat", b'{"model":', "unexpected EOF"),
        ("/api/chat", b"{model}", "invalid character 'm' looking for beginning of object key string"),
        ("/api/chat", b"[]", "json: cannot unmarshal array into Go value of type api.ChatRequest"),
        (
            "/api/generate",
            b'{"model":7}',
            "json: cannot unmarshal number into Go struct field GenerateRequest.model of type string",
        ),
        ("/api/chat", b'{"model":""}', "model is required"),
        ("/api/embed", b'{"model":"nomic-embed-text","input":7}', "invalid input type"),
    ],
)
def test_bad_bodies_get_400_with_gos_text(http: httpx.Client, path: str, body: bytes, message: str) -> None:
    response = http.post(path, content=body)
    assert (response.status_code, response.json()) == (400, {"error": message})
    assert response.headers["content-type"] == "application/json; charset=utf-8"


def test_unknown_paths_and_wrong_methods_get_gins_plain_text(http: httpx.Client) -> None:
    missing = http.get("/api/nothing")
    assert (missing.status_code, missing.text, missing.headers["content-type"]) == (
        404,
        "404 page not found",
        "text/plain",
    )
    wrong = http.get("/api/chat")
    assert (wrong.status_code, wrong.text) == (405, "405 method not allowed")
    assert http.head("/api/ps").status_code == 405
    redirected = http.get("/api/tags/")
    assert (redirected.status_code, redirected.headers["location"]) == (301, "/api/tags")


def test_foreign_host_header_gets_403_with_no_body(sim: RunningSim) -> None:
    with httpx.Client(base_url=sim.url) as raw:
        refused = raw.get("/api/tags", headers={"Host": "evil.example"})
        assert (refused.status_code, refused.content) == (403, b"")
        for host in (f"localhost:{sim.port}", "ollama.localhost", "gpu.internal", "10.1.2.3:11434", "[::1]:80"):
            assert raw.get("/api/version", headers={"Host": host}).status_code == 200, host
        assert raw.get("/", headers={"Host": socket.gethostname()}).status_code == 200
        assert raw.options("/api/chat").status_code == 204


def test_injected_status_reaches_both_clients_in_their_shapes(
    sim: RunningSim, client: ollama.Client, oai: openai.OpenAI, http: httpx.Client
) -> None:
    sim.faults.status = 503
    with pytest.raises(ollama.ResponseError) as native:
        client.list()
    assert native.value.status_code == 503
    assert native.value.error == "server busy, please try again.  maximum pending requests exceeded"
    with pytest.raises(openai.InternalServerError) as compat:
        oai.models.list()
    assert compat.value.status_code == 503
    assert http.get("/").status_code == 200  # the heartbeat is not an API route
    sim.faults.clear()
    assert client.list().models
