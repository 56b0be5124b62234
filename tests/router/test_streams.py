"""Streams: a backend failing mid-answer, and a client hanging up mid-answer or before the first byte."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import httpx
import ollama
import openai
import pytest

from ollama_sim import SimConfig, running_sim
from tests.router.conftest import Fleet
from tests.router.harness import CapturedLog, captured_log, eventually, model_map, running_router


@pytest.fixture
def relay_log() -> Iterator[CapturedLog]:
    """What ``router.relay`` logs during the test."""
    with captured_log("router.relay") as handler:
        yield handler


def _errors(url: str, reason: str) -> float:
    key = f'fleet_errors_total{{endpoint="chat",reason="{reason}"}} '
    lines = httpx.get(url + "/metrics").text.splitlines()
    return next((float(line.removeprefix(key)) for line in lines if line.startswith(key)), 0.0)


CHAT = {"model": "llama3.2:3b", "messages": [{"role": "user", "content": "tell me a story"}]}


def test_a_backend_failing_mid_ndjson_stream_ends_it_with_one_error_line(fleet: Fleet, relay_log: CapturedLog) -> None:
    fleet.t4.faults.fail_after_lines = 5
    before = _errors(fleet.url, "midstream")
    response = httpx.post(fleet.url + "/api/chat", json=CHAT, headers={"x-request-id": "midstream-5"})
    assert response.status_code == 200
    lines = response.content.split(b"\n")
    assert lines[-1] == b"", "the stream ends with a newline"
    assert len(lines) == 7
    assert all("error" not in json.loads(line) for line in lines[:5])
    final = json.loads(lines[5])
    assert set(final) == {"error"} and final["error"].startswith("backend t4 failed during the response")
    assert _errors(fleet.url, "midstream") == before + 1
    logged = [r for r in relay_log.records if r["message"] == "stream failed"]
    assert [(r["request_id"], r["backend"]) for r in logged] == [("midstream-5", "t4")]
    assert fleet.t4.observed.requests[0].headers["x-request-id"] == "midstream-5", "the backend sees the same id"


def test_the_ollama_client_raises_on_the_final_error_line(fleet: Fleet) -> None:
    fleet.t4.faults.fail_after_lines = 3
    with ollama.Client(host=fleet.url, timeout=30) as client, pytest.raises(ollama.ResponseError) as caught:
        for _ in client.chat(model=CHAT["model"], messages=CHAT["messages"], stream=True):
            pass
    assert "backend t4 failed" in str(caught.value)


def test_a_backend_failing_mid_sse_stream_ends_it_with_an_error_event(fleet: Fleet) -> None:
    fleet.l4.faults.fail_after_lines = 4
    body = {"model": "mistral:7b", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    response = httpx.post(fleet.url + "/v1/chat/completions", json=body)
    assert response.status_code == 200
    text = response.text
    assert "[DONE]" not in text
    events = [event for event in text.split("\n\n") if event]
    assert len(events) == 5
    error = json.loads(events[-1].removeprefix("data: "))
    assert error["error"]["type"] == "api_error" and "backend l4 failed" in error["error"]["message"]
    with (
        openai.OpenAI(base_url=fleet.url + "/v1", api_key="unused", max_retries=0) as client,
        pytest.raises(openai.APIError),
    ):
        for _ in client.chat.completions.create(
            model="mistral:7b", messages=[{"role": "user", "content": "hi"}], stream=True
        ):
            pass


def test_a_client_hanging_up_closes_the_backend_stream() -> None:
    slow = SimConfig(name="slow", models=("llama3.2:3b",), token_rate=50.0, tokens=10_000)
    with running_sim(slow) as sim, running_router(model_map({"slow": sim.url}, {"llama3.2:3b": ["slow"]})) as router:
        host, port = router.url.removeprefix("http://").split(":")
        body = json.dumps(CHAT).encode()
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                b"POST /api/chat HTTP/1.1\r\nhost: localhost\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
            )
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            assert sim.observed.wait_until(lambda seen: seen.active_streams == 1, timeout=10)
        assert sim.observed.wait_until(lambda seen: seen.disconnects == 1, timeout=10)
        backend = router.state.backend("slow")
        assert backend is not None
        assert sim.observed.wait_until(lambda _: backend.in_flight == 0, timeout=10)
        assert backend.replicas[0].pool.idle_count == 0, "a connection the client abandoned is never reused"


def test_a_client_hanging_up_before_the_first_byte_cancels_the_request(fleet: Fleet) -> None:
    fleet.t4.faults.hang = True
    host, port = fleet.url.removeprefix("http://").split(":")
    body = json.dumps(CHAT).encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /api/chat HTTP/1.1\r\nhost: localhost\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
        assert fleet.t4.observed.wait_until(lambda seen: len(seen.requests) == 1, timeout=10)
    backend = fleet.router.state.backend("t4")
    assert backend is not None
    assert fleet.t4.observed.wait_until(lambda _: backend.in_flight == 0, timeout=10)
    assert backend.replicas[0].pool.lent_count == 0, "the upstream connection was dropped, not kept"


def test_a_client_hanging_up_while_a_cold_model_loads_closes_the_upstream() -> None:
    """The client leaves during the backend's first-byte delay; the backend sees its connection close."""
    with (
        running_sim(SimConfig(name="cold", models=("llama3.2:3b",))) as sim,
        running_router(model_map({"cold": sim.url}, {"llama3.2:3b": ["cold"]})) as router,
    ):
        sim.faults.first_byte_delay = 60.0
        host, port = router.url.removeprefix("http://").split(":")
        body = json.dumps(CHAT).encode()
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(
                b"POST /api/chat HTTP/1.1\r\nhost: localhost\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
            )
            assert sim.observed.wait_until(lambda seen: len(seen.requests) == 1, timeout=10)
            assert sim.open_connections == 1, "the router's connection waits for the first byte"
        assert eventually(lambda: sim.open_connections == 0, 10), "the simulated backend saw the router hang up"
        backend = router.state.backend("cold")
        assert backend is not None
        assert eventually(lambda: backend.in_flight == 0 and backend.replicas[0].in_flight == 0, 10)
        assert backend.replicas[0].pool.lent_count == 0 and backend.replicas[0].pool.idle_count == 0
        assert sim.observed.active_streams == 0 and sim.observed.completed_streams == 0
