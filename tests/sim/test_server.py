"""The server as a process would see it: faults, restarts, keep-alive, raw HTTP/1.x, async use, the CLI."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time

import httpx
import ollama
import pytest

from ollama_sim import RunningSim, SimConfig, SimulatedOllama, running_sim


def _raw_exchange(port: int, payload: bytes, until: bytes, timeout: float = 5.0) -> bytes:
    """Send ``payload`` on a fresh socket and read until ``until`` has arrived (or the peer closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(payload)
        received = b""
        while until not in received:
            chunk = conn.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_hang_accepts_but_never_answers(sim: RunningSim) -> None:
    sim.faults.hang = True
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(sim.url + "/api/tags", timeout=httpx.Timeout(5, read=0.3))
    sim.faults.hang = False
    assert httpx.get(sim.url + "/api/tags").status_code == 200


def test_first_byte_delay_holds_the_headers(sim: RunningSim, http: httpx.Client) -> None:
    sim.faults.first_byte_delay = 0.2
    started = time.monotonic()
    assert http.get("/api/version").status_code == 200
    assert time.monotonic() - started >= 0.15


def test_stop_and_start_is_a_restarted_backend_on_the_same_port(sim: RunningSim, client: ollama.Client) -> None:
    client.pull("phi3:mini")
    client.generate(model="llama3.2:3b", prompt="")
    port = sim.port
    sim.stop()
    with pytest.raises(ConnectionError):
        client.list()
    sim.start()
    assert sim.port == port
    assert "phi3:mini" in [entry.model for entry in client.list().models]  # installed models survive
    assert client.ps().models == []  # nothing stays loaded


def test_stop_during_a_stream_counts_as_aborted_not_as_a_disconnect() -> None:
    config = SimConfig(models=("llama3.2:3b",), tokens=100, token_rate=50)
    with running_sim(config) as sim, httpx.Client() as http:
        body = {"model": "llama3.2:3b", "prompt": "go"}
        with (
            pytest.raises(httpx.RemoteProtocolError),
            http.stream("POST", sim.url + "/api/generate", json=body) as reply,
        ):
            lines = reply.iter_lines()
            next(lines)
            sim.stop()
            list(lines)
        assert sim.observed.wait_until(lambda seen: seen.aborted_streams == 1)
        assert sim.observed.disconnects == 0


def test_pipelined_requests_are_answered_in_order_on_one_connection(sim: RunningSim) -> None:
    host = f"Host: 127.0.0.1:{sim.port}\r\n"
    body = '{"model":"llama3.2:3b","prompt":""}'
    payload = (
        f"GET /api/version HTTP/1.1\r\n{host}\r\n"
        f"POST /api/generate HTTP/1.1\r\n{host}Content-Length: {len(body)}\r\n\r\n{body}"
        f"GET / HTTP/1.1\r\n{host}Connection: close\r\n\r\n"
    ).encode()
    received = _raw_exchange(sim.port, payload, b"Ollama is running")
    assert received.count(b"HTTP/1.1 200 OK") == 3
    assert received.index(b'{"version"') < received.index(b'"done_reason":"load"') < received.index(b"Ollama is")
    assert b"Connection: close" in received


def test_http10_gets_an_http10_answer_and_a_close(sim: RunningSim) -> None:
    received = _raw_exchange(sim.port, b"GET /api/version HTTP/1.0\r\n\r\n", b"\x00")
    assert received.startswith(b"HTTP/1.0 200 OK\r\n") and received.endswith(b'{"version":"0.32.15"}')


def test_expect_continue_is_honoured(sim: RunningSim) -> None:
    body = b'{"model":"llama3.2:3b","prompt":"","stream":false}'
    head = (
        f"POST /api/generate HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", sim.port), timeout=5) as conn:
        conn.sendall(head.encode())
        assert conn.recv(1024) == b"HTTP/1.1 100 Continue\r\n\r\n"
        conn.sendall(body)
        assert b'"done_reason":"load"' in conn.recv(65536)


def test_observed_requests_record_what_arrived(sim: RunningSim, client: ollama.Client) -> None:
    client.chat(model="llama3.2:3b", messages=[{"role": "user", "content": "hi"}])
    seen = sim.observed.requests[-1]
    assert (seen.method, seen.path) == ("POST", "/api/chat")
    assert seen.headers["content-type"] == "application/json" and seen.json()["stream"] is False
    httpx.get(sim.url + "/v1/models/hf.co%2Fa%2Fb?x=1")
    assert (sim.observed.requests[-1].path, sim.observed.requests[-1].query) == ("/v1/models/hf.co%2Fa%2Fb", "x=1")


def test_async_use_inside_an_existing_loop() -> None:
    async def scenario() -> tuple[int, str]:
        server = SimulatedOllama(SimConfig(models=("llama3.2:3b",), tokens=3))
        await server.start()
        try:
            async with httpx.AsyncClient(base_url=server.url) as http:
                reply = await http.post("/api/generate", json={"model": "llama3.2:3b", "prompt": "x", "stream": False})
                return reply.status_code, reply.json()["done_reason"]
        finally:
            await server.close()

    assert asyncio.run(scenario()) == (200, "stop")


def test_cli_serves_until_sigterm() -> None:
    command = [sys.executable, "-m", "ollama_sim", "--name", "cli", "--port", "0", "--models", "llama3.2:3b"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            ready = process.stdout.readline().strip()
            assert ready.startswith("simulated ollama cli ready at http://127.0.0.1:")
            assert httpx.get(ready.rsplit(" ", 1)[1] + "/api/tags").json()["models"][0]["name"] == "llama3.2:3b"
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
