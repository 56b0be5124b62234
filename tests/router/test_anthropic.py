"""Anthropic's door: ``/v1/messages`` routed by model, keys in ``x-api-key``, errors and stream failures in
Anthropic's shape, driven by the official ``anthropic`` client."""

from __future__ import annotations

import json
from collections.abc import Iterator

import anthropic
import httpx
import pytest
from anthropic.types import MessageParam

from tests.router.conftest import Fleet, fleet_router
from tests.router.harness import GUARD, RunningRouter

HELLO: list[MessageParam] = [{"role": "user", "content": "Hello, how are you?"}]
KEYS = {"api_keys": ("user-key",), "admin_keys": ("admin-key",)}


@pytest.fixture
def keyed(fleet: Fleet) -> Iterator[RunningRouter]:
    """A router that needs an API key."""
    with fleet_router(fleet, **KEYS) as router:
        yield router


def _client(router: RunningRouter, api_key: str = "user-key") -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=router.url, api_key=api_key, max_retries=0, timeout=GUARD)


def test_a_message_is_routed_by_model_with_the_key_in_x_api_key(fleet: Fleet, keyed: RunningRouter) -> None:
    with _client(keyed) as client:
        raw = client.messages.with_raw_response.create(model="mistral:7b", max_tokens=64, messages=HELLO)
    message = raw.parse()
    assert raw.headers["x-fleet-backend"] == "l4"
    assert message.model == "mistral:7b" and message.stop_reason == "end_turn" and message.role == "assistant"
    assert message.content[0].type == "text" and message.content[0].text and message.usage.output_tokens == 20
    (seen,) = fleet.l4.observed.requests
    assert seen.path == "/v1/messages" and "x-api-key" not in seen.headers and "authorization" not in seen.headers
    assert fleet.t4.observed.requests == []


def test_a_streamed_message_arrives_whole_and_matches_the_plain_one(fleet: Fleet, keyed: RunningRouter) -> None:
    with _client(keyed) as client:
        plain = client.messages.create(model="chat", max_tokens=64, messages=HELLO)
        with client.messages.stream(model="chat", max_tokens=64, messages=HELLO) as stream:
            text = "".join(stream.text_stream)
            final = stream.get_final_message()
    assert plain.content[0].type == "text" and text == plain.content[0].text
    assert final.stop_reason == "end_turn" and final.usage.output_tokens == 20
    assert [request.json()["model"] for request in fleet.t4.observed.requests] == ["llama3.2:3b", "llama3.2:3b"]


def test_an_unknown_model_is_anthropics_not_found_error(fleet: Fleet, keyed: RunningRouter) -> None:
    with _client(keyed) as client, pytest.raises(anthropic.NotFoundError) as raised:
        client.messages.create(model="nope:13b", max_tokens=64, messages=HELLO)
    body = raised.value.body
    assert isinstance(body, dict) and body["type"] == "error"
    assert body["error"] == {"type": "not_found_error", "message": "model 'nope:13b' not found"}
    assert fleet.t4.observed.requests == [] and fleet.l4.observed.requests == []


def test_a_missing_or_wrong_key_is_anthropics_authentication_error(fleet: Fleet, keyed: RunningRouter) -> None:
    request = {"model": "mistral:7b", "max_tokens": 64, "messages": HELLO}
    missing = httpx.post(keyed.url + "/v1/messages", json=request, timeout=GUARD)
    assert missing.status_code == 401
    assert missing.json()["type"] == "error" and missing.json()["error"]["type"] == "authentication_error"
    assert "x-api-key" in missing.json()["error"]["message"]
    with _client(keyed, api_key="wrong") as client, pytest.raises(anthropic.AuthenticationError):
        client.messages.create(model="mistral:7b", max_tokens=64, messages=HELLO)
    assert fleet.t4.observed.requests == [] and fleet.l4.observed.requests == []


def test_x_api_key_opens_only_the_anthropic_door(fleet: Fleet, keyed: RunningRouter) -> None:
    body = {"model": "mistral:7b", "prompt": "hi", "stream": False}
    assert httpx.post(keyed.url + "/api/generate", json=body, headers={"x-api-key": "user-key"}).status_code == 401
    bearer = anthropic.Anthropic(base_url=keyed.url, auth_token="user-key", max_retries=0, timeout=GUARD)
    with bearer:
        assert bearer.messages.create(model="mistral:7b", max_tokens=8, messages=HELLO).stop_reason == "max_tokens"


def test_bad_json_and_an_unreachable_backend_take_anthropics_shape(fleet: Fleet) -> None:
    bad = httpx.post(fleet.url + "/v1/messages", content=b'{"model": ', timeout=GUARD)
    assert bad.status_code == 400
    assert bad.json()["error"] == {"type": "invalid_request_error", "message": "unexpected EOF"}
    fleet.l4.stop()
    client = anthropic.Anthropic(base_url=fleet.url, api_key="none", max_retries=0, timeout=GUARD)
    with client, pytest.raises(anthropic.APIStatusError) as raised:
        client.messages.create(model="mistral:7b", max_tokens=64, messages=HELLO)
    assert raised.value.status_code == 502 and raised.value.response.headers["x-fleet-backend"] == "l4"
    body = raised.value.body
    assert isinstance(body, dict) and body["error"]["type"] == "api_error" and "unreachable" in body["error"]["message"]


def test_a_stream_that_fails_midway_ends_with_anthropics_error_event(fleet: Fleet) -> None:
    fleet.l4.faults.fail_after_lines = 3
    request = {"model": "mistral:7b", "max_tokens": 64, "messages": HELLO, "stream": True}
    with httpx.stream("POST", fleet.url + "/v1/messages", json=request, timeout=GUARD) as response:
        received = b"".join(response.iter_bytes())
    assert response.status_code == 200
    events = [event for event in received.decode().split("\n\n") if event]
    assert events[0].startswith("event: message_start\n")
    last_kind, last_data = events[-1].split("\n", 1)
    assert last_kind == "event: error"
    error = json.loads(last_data.removeprefix("data: "))
    assert error["type"] == "error" and error["error"]["type"] == "api_error"
    assert "failed during the response" in error["error"]["message"]
    assert "message_stop" not in received.decode()
    fleet.l4.faults.fail_after_lines = 3
    client = anthropic.Anthropic(base_url=fleet.url, api_key="none", max_retries=0, timeout=GUARD)
    with (
        client,
        pytest.raises(anthropic.APIStatusError),
        client.messages.stream(model="mistral:7b", max_tokens=64, messages=HELLO) as stream,
    ):
        "".join(stream.text_stream)


def test_an_open_circuit_is_anthropics_overloaded_error(fleet: Fleet) -> None:
    fleet.l4.stop()
    with fleet_router(fleet, circuit_failures=1, circuit_open_seconds=60.0) as router:
        client = anthropic.Anthropic(base_url=router.url, api_key="none", max_retries=0, timeout=GUARD)
        with client:
            with pytest.raises(anthropic.APIStatusError) as first:
                client.messages.create(model="mistral:7b", max_tokens=64, messages=HELLO)
            with pytest.raises(anthropic.APIStatusError) as second:
                client.messages.create(model="mistral:7b", max_tokens=64, messages=HELLO)
    assert first.value.status_code == 502
    assert second.value.status_code == 503 and "retry-after" in second.value.response.headers
    body = second.value.body
    assert isinstance(body, dict) and body["type"] == "error" and body["error"]["type"] == "overloaded_error"
