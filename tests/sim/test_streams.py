"""Stream behaviour a proxy notices: exact bytes, content types, pacing, broken and abandoned streams."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from ollama_sim import RunningSim, SimConfig, running_sim
from tests.sim.conftest import MODELS, TOKENS

CHAT = {"model": "llama3.2:3b", "messages": [{"role": "user", "content": "Tell me a story"}]}


def test_identical_requests_get_identical_bytes_from_any_simulator(http: httpx.Client) -> None:
    first = http.post("/api/chat", json=CHAT).content
    assert http.post("/api/chat", json=CHAT).content == first
    with running_sim(SimConfig(name="other", models=MODELS, tokens=TOKENS)) as other:
        assert httpx.post(other.url + "/api/chat", json=CHAT).content == first
    sse = {**CHAT, "stream": True}
    assert http.post("/v1/chat/completions", json=sse).content == http.post("/v1/chat/completions", json=sse).content


def test_ndjson_lines_are_compact_json_without_blank_lines(http: httpx.Client) -> None:
    response = http.post("/api/generate", json={"model": "llama3.2:3b", "prompt": "<b>&</b>"})
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["transfer-encoding"] == "chunked"
    lines = response.content.split(b"\n")
    assert lines[-1] == b"" and all(lines[:-1])
    assert all(json.loads(line)["model"] == "llama3.2:3b" for line in lines[:-1])
    assert len(lines) - 1 == TOKENS + 1


@pytest.mark.parametrize(
    ("path", "body", "content_type"),
    [
        ("/api/chat", {**CHAT, "stream": False}, "application/json; charset=utf-8"),
        ("/api/pull", {"model": "x", "stream": False}, "application/json"),
        ("/v1/chat/completions", CHAT, "application/json"),
        ("/v1/chat/completions", {**CHAT, "stream": True}, "text/event-stream"),
        ("/v1/responses", {"model": "llama3.2:3b", "input": "hi", "stream": True}, "text/event-stream"),
    ],
)
def test_content_types_match_ollama(http: httpx.Client, path: str, body: object, content_type: str) -> None:
    assert http.post(path, json=body).headers["content-type"] == content_type


def test_sse_streams_end_with_done_except_responses(http: httpx.Client) -> None:
    chat = http.post("/v1/chat/completions", json={**CHAT, "stream": True}).content
    assert chat.endswith(b"data: [DONE]\n\n") and chat.count(b"data: ") == TOKENS + 2
    responses = http.post("/v1/responses", json={"model": "llama3.2:3b", "input": "hi", "stream": True})
    assert b"[DONE]" not in responses.content and responses.content.startswith(b"event: response.created\n")
    assert responses.headers["cache-control"] == "no-cache"


def test_token_rate_paces_the_stream() -> None:
    with running_sim(SimConfig(models=MODELS, tokens=10, token_rate=50)) as paced:
        started = time.monotonic()
        lines = httpx.post(paced.url + "/api/chat", json=CHAT).content.splitlines()
        elapsed = time.monotonic() - started
    assert len(lines) == 11
    assert elapsed >= 0.15  # 10 tokens at 50/s take 0.2 s; only a guard that pacing exists


def test_fail_after_lines_breaks_the_stream_mid_way(sim: RunningSim, http: httpx.Client) -> None:
    sim.faults.fail_after_lines = 3
    received: list[bytes] = []
    with pytest.raises(httpx.RemoteProtocolError), http.stream("POST", "/api/chat", json=CHAT) as response:
        received.extend(response.iter_lines())  # type: ignore[arg-type]
    assert len(received) <= 3
    assert sim.observed.wait_until(lambda seen: seen.aborted_streams == 1, timeout=5)
    sim.faults.fail_after_lines = None
    assert http.post("/api/chat", json=CHAT).status_code == 200


def test_client_going_away_is_observed_as_a_disconnect() -> None:
    with running_sim(SimConfig(models=MODELS, tokens=200, token_rate=100)) as slow, httpx.Client() as http:
        with http.stream("POST", slow.url + "/api/chat", json=CHAT) as response:
            first = next(response.iter_lines())
            assert json.loads(first)["done"] is False
        assert slow.observed.wait_until(lambda seen: seen.disconnects == 1, timeout=5)
        assert slow.observed.active_streams == 0 and slow.observed.completed_streams == 0


GOLDEN_CHAT = (
    b'{"model":"llama3.2:3b","created_at":"2025-06-01T12:00:00.0415Z",'
    b'"message":{"role":"assistant","content":"up"},"done":false}\n'
    b'{"model":"llama3.2:3b","created_at":"2025-06-01T12:00:00.0615Z",'
    b'"message":{"role":"assistant","content":" steady"},"done":false}\n'
    b'{"model":"llama3.2:3b","created_at":"2025-06-01T12:00:00.0615Z",'
    b'"message":{"role":"assistant","content":""},"done_reason":"stop","done":true,'
    b'"total_duration":61500000,"load_duration":20000000,"prompt_eval_count":3,'
    b'"prompt_eval_duration":1500000,"eval_count":2,"eval_duration":40000000}\n'
)


def test_chat_bytes_keep_ollamas_field_order_and_go_time_format() -> None:
    with running_sim(SimConfig(models=("llama3.2:3b",), tokens=2)) as golden:
        body = {"model": "llama3.2:3b", "messages": [{"role": "user", "content": "hi"}]}
        assert httpx.post(golden.url + "/api/chat", json=body).content == GOLDEN_CHAT
