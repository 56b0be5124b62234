"""``/v1/messages`` of the simulated Ollama through the official ``anthropic`` client, and its refusals as
Ollama's Anthropic middleware words them."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import ollama
import pytest
from anthropic.types import MessageParam

from ollama_sim import RunningSim
from tests.sim.conftest import TOKENS

HELLO: list[MessageParam] = [{"role": "user", "content": "Say hello"}]


def _client(sim: RunningSim) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=sim.url, api_key="ollama", max_retries=0)


def test_a_message_says_what_native_chat_says(sim: RunningSim, client: ollama.Client) -> None:
    with _client(sim) as claude:
        message = claude.messages.create(model="llama3.2:3b", max_tokens=100, system="Be brief", messages=HELLO)
    native = client.chat(model="llama3.2:3b", messages=[{"role": "system", "content": "Be brief"}, *HELLO])
    assert message.content[0].type == "text" and message.content[0].text == native.message.content
    assert message.id.startswith("msg_") and message.stop_reason == "end_turn"
    assert message.usage.output_tokens == TOKENS


def test_a_stream_sends_anthropics_events_in_order(sim: RunningSim) -> None:
    with _client(sim) as claude, claude.messages.stream(model="llama3.2:3b", max_tokens=3, messages=HELLO) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert final.stop_reason == "max_tokens" and final.usage.output_tokens == 3


@pytest.mark.parametrize(
    ("body", "status", "kind", "message"),
    [
        ({"max_tokens": 5, "messages": HELLO}, 400, "invalid_request_error", "model is required"),
        (
            {"model": "llama3.2:3b", "messages": HELLO},
            400,
            "invalid_request_error",
            "max_tokens is required and must be positive",
        ),
        (
            {"model": "llama3.2:3b", "max_tokens": 5, "messages": []},
            400,
            "invalid_request_error",
            "messages is required",
        ),
        (
            {
                "model": "llama3.2:3b",
                "max_tokens": 5,
                "messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "url", "url": "x"}}]}],
            },
            400,
            "invalid_request_error",
            "invalid image source type: url. Only base64 images are supported.",
        ),
        ({"model": "nope", "max_tokens": 5, "messages": HELLO}, 404, "not_found_error", "model 'nope' not found"),
    ],
)
def test_refusals_take_anthropics_shape(
    sim: RunningSim, body: dict[str, Any], status: int, kind: str, message: str
) -> None:
    response = httpx.post(sim.url + "/v1/messages", json=body)
    assert response.status_code == status
    document = response.json()
    assert document["type"] == "error" and document["error"] == {"type": kind, "message": message}
    assert document["request_id"].startswith("req_")
