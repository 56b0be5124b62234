"""The native read and inference routes, driven by the official ``ollama`` client."""

from __future__ import annotations

import math

import httpx
import ollama

from ollama_sim import RunningSim
from tests.sim.conftest import MODELS, TOKENS

HELLO = [{"role": "user", "content": "Say hello"}]


def test_list_shows_every_model_newest_first_with_go_timestamps(client: ollama.Client) -> None:
    models = client.list().models
    assert [entry.model for entry in models] == list(MODELS)
    stamps = [entry.modified_at for entry in models]
    assert all(stamp is not None and stamp.utcoffset() is not None for stamp in stamps)
    assert stamps == sorted(stamps, reverse=True)  # type: ignore[type-var]
    assert all(entry.digest and len(entry.digest) == 64 for entry in models)
    assert models[0].details is not None and models[0].details.family == "llama"


def test_version_and_heartbeat(http: httpx.Client) -> None:
    assert http.get("/api/version").json() == {"version": "0.32.15"}
    root = http.get("/")
    assert (root.status_code, root.text, root.headers["content-type"]) == (
        200,
        "Ollama is running",
        "text/plain; charset=utf-8",
    )
    head = http.head("/")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == "17"
    assert http.head("/api/tags").headers["content-length"] == http.get("/api/tags").headers["content-length"]


def test_show_by_model_or_legacy_name(client: ollama.Client, http: httpx.Client) -> None:
    shown = client.show("qwen2.5:7b")
    assert shown.details is not None and shown.details.parameter_size == "7B"
    assert shown.capabilities == ["completion"]
    assert shown.modelinfo is not None and shown.modelinfo["general.architecture"] == "qwen2"
    assert client.show("nomic-embed-text").capabilities == ["embedding"]
    legacy = http.post("/api/show", json={"name": "QWEN2.5:7B"})
    assert legacy.status_code == 200 and legacy.json()["details"]["family"] == "qwen2"


def test_generate_streams_tokens_then_a_done_line_matching_the_merged_answer(client: ollama.Client) -> None:
    parts = list(client.generate(model="llama3.2:3b", prompt="Why is the sky blue?", stream=True))
    assert len(parts) == TOKENS + 1
    assert [part.done for part in parts] == [False] * TOKENS + [True]
    merged = client.generate(model="llama3.2:3b", prompt="Why is the sky blue?")
    assert merged.response == "".join(part.response or "" for part in parts)
    assert merged.done_reason == "stop" and merged.eval_count == TOKENS
    assert merged.context and merged.total_duration and merged.created_at == parts[-1].created_at


def test_chat_echoes_the_model_as_sent_and_streams_like_it_merges(client: ollama.Client) -> None:
    parts = list(client.chat(model="Llama3.2:3B", messages=HELLO, stream=True))
    assert {part.model for part in parts} == {"Llama3.2:3B"}
    assert all(part.message.role == "assistant" for part in parts)
    merged = client.chat(model="Llama3.2:3B", messages=HELLO)
    assert merged.message.content == "".join(part.message.content or "" for part in parts)
    assert merged.done and merged.done_reason == "stop"


def test_different_prompts_get_different_answers(client: ollama.Client) -> None:
    first = client.chat(model="llama3.2:3b", messages=HELLO).message.content
    second = client.chat(model="llama3.2:3b", messages=[{"role": "user", "content": "Other"}]).message.content
    assert first != second


def test_num_predict_cuts_the_answer_short_with_done_reason_length(client: ollama.Client) -> None:
    short = client.generate(model="llama3.2:3b", prompt="Count", options={"num_predict": 3})
    assert (short.eval_count, short.done_reason) == (3, "length")


def test_empty_prompt_loads_and_keep_alive_zero_unloads(client: ollama.Client) -> None:
    assert client.ps().models == []
    loaded = client.generate(model="qwen2.5:7b", prompt="")
    assert (loaded.done, loaded.done_reason, loaded.response) == (True, "load", "")
    assert client.chat(model="llama3.2:3b", messages=[]).done_reason == "load"
    running = client.ps().models
    assert [entry.model for entry in running] == ["llama3.2:3b", "qwen2.5:7b"]  # longest expiry first
    assert all(entry.expires_at is not None and entry.size_vram for entry in running)
    unloaded = client.generate(model="qwen2.5:7b", prompt="", keep_alive=0)
    assert unloaded.done_reason == "unload"
    assert client.chat(model="llama3.2:3b", messages=[], keep_alive="0s").done_reason == "unload"
    assert client.ps().models == []


def test_embed_returns_one_unit_vector_per_input(client: ollama.Client, sim: RunningSim) -> None:
    result = client.embed(model="nomic-embed-text", input=["first", "second"])
    assert result.model == "nomic-embed-text"
    assert len(result.embeddings) == 2 and result.embeddings[0] != result.embeddings[1]
    assert all(len(vector) == sim.config.embedding_length for vector in result.embeddings)
    assert all(math.isclose(math.hypot(*vector), 1.0, abs_tol=1e-3) for vector in result.embeddings)
    assert len(client.embed(model="nomic-embed-text", input="x", dimensions=8).embeddings[0]) == 8


def test_legacy_embeddings(client: ollama.Client) -> None:
    vector = client.embeddings(model="nomic-embed-text", prompt="hello").embedding
    assert len(vector) == 64
    assert client.embeddings(model="nomic-embed-text", prompt="").embedding == []
