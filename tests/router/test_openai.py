"""The OpenAI-compatible API through the router, with the official openai client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.router.conftest import Fleet

MESSAGES = [{"role": "user", "content": "hello"}]


@pytest.fixture
def client(fleet: Fleet) -> Iterator[openai.OpenAI]:
    """The official client with its base URL on the router's /v1."""
    with openai.OpenAI(base_url=fleet.url + "/v1", api_key="unused", max_retries=0) as official:
        yield official


def test_chat_completions_plain_and_streamed(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(model="mistral:7b", messages=[{"role": "user", "content": "hello"}])
    assert answer.choices[0].message.content
    chunks = list(
        client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}], stream=True)
    )
    assert chunks and chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", {"model": "qwen2.5:7b", "messages": MESSAGES, "stream": True}),
        ("/v1/completions", {"model": "mistral:7b", "prompt": "hi", "stream": True}),
        ("/v1/responses", {"model": "mistral:7b", "input": "hi", "stream": True}),
        ("/v1/embeddings", {"model": "mistral:7b", "input": ["a", "b"]}),
    ],
)
def test_sse_and_json_are_byte_identical_to_the_backends(fleet: Fleet, path: str, body: dict[str, object]) -> None:
    direct = httpx.post(fleet.l4.url + path, json=body)
    routed = httpx.post(fleet.url + path, json=body)
    assert routed.status_code == direct.status_code == 200
    assert routed.headers["content-type"] == direct.headers["content-type"]
    assert routed.headers["x-fleet-backend"] == "l4"
    assert routed.content == direct.content


def test_completions_and_embeddings(client: openai.OpenAI) -> None:
    assert client.completions.create(model="mistral:7b", prompt="hi").choices[0].text
    vectors = client.embeddings.create(model="mistral:7b", input=["a", "b"])
    assert len(vectors.data) == 2


def test_models_list_and_retrieve_with_slashes(client: openai.OpenAI, fleet: Fleet) -> None:
    ids = {model.id for model in client.models.list().data}
    assert {"mistral:7b", "chat:latest", "hf.co/acme/tiny:Q4_K_M"} <= ids
    retrieved = client.models.retrieve("hf.co/acme/tiny:Q4_K_M")
    assert (retrieved.id, retrieved.owned_by) == ("hf.co/acme/tiny:Q4_K_M", "acme")
    plain = httpx.get(fleet.url + "/v1/models/hf.co/acme/tiny:Q4_K_M")
    assert plain.status_code == 200 and plain.json()["id"] == "hf.co/acme/tiny:Q4_K_M"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("nope:1b")


def test_responses_api(client: openai.OpenAI) -> None:
    response = client.responses.create(model="mistral:7b", input="hi")
    assert response.output_text


def test_unknown_v1_paths_with_a_model_pass_through(fleet: Fleet) -> None:
    response = httpx.post(fleet.url + "/v1/messages", json={"model": "mistral:7b", "max_tokens": 5})
    direct = httpx.post(fleet.l4.url + "/v1/messages", json={"model": "mistral:7b", "max_tokens": 5})
    assert response.headers["x-fleet-backend"] == "l4"
    assert (response.status_code, response.content) == (direct.status_code, direct.content)
    assert fleet.l4.observed.paths().count("/v1/messages") == 2
