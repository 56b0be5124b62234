"""SIGTERM on ``python -m router``: unready first, in-flight streams finish intact, listener closes, exit 0.

A stream still running at the drain deadline is cut, and ends with its final error line.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from ollama_sim import SimConfig, running_sim
from router.endpoints.relay import SHUTDOWN_MESSAGE
from tests.router.harness import eventually, model_map

ROOT = Path(__file__).resolve().parents[2]
GUARD = 20.0
"""Bound for every wait: a guard against hangs, not a timing assertion."""

CHAT = {"model": "llama3.2:3b", "messages": [{"role": "user", "content": "a story to drain"}]}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _readyz(url: str) -> int | None:
    try:
        return httpx.get(url + "/readyz", timeout=2.0).status_code
    except httpx.TransportError:
        return None


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2.0).close()
    except ConnectionRefusedError:
        return True
    return False


def _collect(url: str, into: bytearray, started: threading.Event) -> None:
    with httpx.stream("POST", url + "/api/chat", json=CHAT, timeout=GUARD) as response:
        for chunk in response.iter_raw():
            into.extend(chunk)
            started.set()


@dataclass
class RouterProcess:
    """``python -m router`` serving one backend, started by :func:`_router_process`."""

    process: subprocess.Popen[bytes]
    url: str
    port: int


@contextmanager
def _router_process(tmp_path: Path, sim_url: str, drain: str, notice: str) -> Iterator[RouterProcess]:
    """The router as a process, ready; killed at the end of the block if it is still running."""
    map_file = tmp_path / "map.json"
    map_file.write_text(json.dumps(model_map({"pool": sim_url}, {"llama3.2:3b": ["pool"]})))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "FLEET_DRAIN_SECONDS": drain, "FLEET_DRAIN_NOTICE_SECONDS": notice}
    args = [sys.executable, "-m", "router", "--model-map", str(map_file), "--host", "127.0.0.1", "--port", str(port)]
    with (tmp_path / "router.log").open("w") as log:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stderr=log)
        try:
            assert eventually(lambda: _readyz(url) == 200 or process.poll() is not None, GUARD)
            assert process.poll() is None, "the router did not start"
            yield RouterProcess(process, url, port)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(GUARD)


def _reader(url: str, into: bytearray) -> tuple[threading.Thread, threading.Event]:
    started = threading.Event()
    thread = threading.Thread(target=_collect, args=(url, into, started))
    thread.start()
    return thread, started


def test_sigterm_drains_a_stream_in_flight_and_exits_0(tmp_path: Path) -> None:
    paced = SimConfig(name="paced", models=("llama3.2:3b",), token_rate=25.0, tokens=80)
    through_router, direct = bytearray(), bytearray()
    with running_sim(paced) as sim, _router_process(tmp_path, sim.url, "30", "1") as router:
        streaming, started = _reader(router.url, through_router)
        reference, _ = _reader(sim.url, direct)
        assert started.wait(GUARD), "the stream is under way"
        router.process.send_signal(signal.SIGTERM)
        assert eventually(lambda: _readyz(router.url) == 503, GUARD), "/readyz turns 503 while still accepting"
        assert eventually(lambda: _refused(router.port), GUARD), "then the listener closes"
        streaming.join(GUARD)
        reference.join(GUARD)
        assert router.process.wait(timeout=GUARD) == 0
    assert bytes(through_router) == bytes(direct) and through_router.count(b"\n") == 81, "the stream is intact"
    records = [json.loads(line) for line in (tmp_path / "router.log").read_text().splitlines() if line[:1] == "{"]
    messages = [record.get("message") for record in records]
    drained = next(r for r in records if r.get("message") == "draining")
    assert drained["signal"] == "SIGTERM"
    served = next(i for i, r in enumerate(records) if r.get("message") == "request" and r.get("path") == "/api/chat")
    assert messages.index("draining") < messages.index("Shutting down") < served, (
        "unready first, then the listener closed, while the stream was still being served"
    )


def test_a_stream_outliving_the_drain_deadline_ends_with_an_error_line(tmp_path: Path) -> None:
    paced = SimConfig(name="endless", models=("llama3.2:3b",), token_rate=25.0, tokens=10_000)
    received = bytearray()
    with running_sim(paced) as sim:
        with _router_process(tmp_path, sim.url, "1.5", "0.5") as router:
            streaming, started = _reader(router.url, received)
            assert started.wait(GUARD)
            router.process.send_signal(signal.SIGTERM)
            streaming.join(GUARD)
            assert router.process.wait(timeout=GUARD) == 0
        assert sim.observed.wait_until(lambda seen: seen.disconnects == 1, timeout=GUARD), "the backend was let go"
    lines = bytes(received).splitlines()
    assert len(lines) < 10_000 and json.loads(lines[-1]) == {"error": SHUTDOWN_MESSAGE}
