"""Slow and idle clients cannot take the router down: heads and bodies have deadlines, connections a cap.

Small configured deadlines, bounded waits, no timing assertions: each test proves the router keeps serving
others while it holds the slow connections, and that it drops them in the end.
"""

from __future__ import annotations

import json
import os
import resource
import select
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from ollama_sim import SimConfig, running_sim
from router.runtime.connections import fit_open_files
from router.runtime.settings import SettingsError
from tests.router.conftest import Fleet, fleet_router
from tests.router.harness import GUARD, model_map, running_router

ROOT = Path(__file__).resolve().parents[2]
GENERATE = json.dumps({"model": "mistral:7b", "prompt": "hi", "stream": False}).encode()


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=GUARD)


def _closed_by_router(sock: socket.socket, trickle: bytes = b"") -> bool:
    """Send ``trickle`` a byte at a time (if any) until the router closes the connection; True when it did."""
    for index in range(int(GUARD / 0.05)):
        if trickle:
            try:
                sock.send(trickle[index % len(trickle) : index % len(trickle) + 1])
            except OSError:
                return True
        readable, _, _ = select.select([sock], [], [], 0.05)
        if readable:
            try:
                return sock.recv(4096) == b""
            except ConnectionResetError:
                return True
    return False


def _served(url: str) -> bool:
    health = httpx.get(url + "/healthz", timeout=GUARD)
    answer = httpx.post(url + "/api/generate", content=GENERATE, timeout=GUARD)
    return health.status_code == 200 and answer.status_code == 200


def test_silent_slow_head_and_slow_body_clients_are_dropped_while_others_are_served(fleet: Fleet) -> None:
    head = b"POST /api/generate HTTP/1.1\r\nhost: localhost\r\ncontent-length: 500\r\n"
    with fleet_router(fleet, head_timeout=1.0, body_timeout=1.0) as router, ExitStack() as stack:
        silent = [stack.enter_context(_connect(router.url)) for _ in range(20)]
        slow_head = stack.enter_context(_connect(router.url))
        slow_body = stack.enter_context(_connect(router.url))
        slow_body.sendall(head + b"\r\n" + b'{"model": "mistral:7b", ')
        kept_alive = stack.enter_context(_connect(router.url))
        kept_alive.sendall(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n")
        assert kept_alive.recv(4096).startswith(b"HTTP/1.1 200")
        assert _served(router.url), "the router serves others while slow clients hold connections"
        assert _closed_by_router(slow_head, head), "a head sent byte by byte is cut at the head deadline"
        assert _closed_by_router(slow_body, b" "), "a body sent byte by byte is cut at the body deadline"
        assert all(_closed_by_router(sock) for sock in silent), "connections that send nothing are closed"
        assert _served(router.url)
        kept_alive.sendall(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n")
        assert kept_alive.recv(4096).startswith(b"HTTP/1.1 200"), "an idle kept-alive connection is not cut"
    assert fleet.t4.observed.requests == [] and len(fleet.l4.observed.requests) == 2, "the slow body never left"


def test_a_refused_upload_cannot_trickle_its_body_forever(fleet: Fleet) -> None:
    """Blob uploads are exempt from the body deadline only while relayed; a refused one is not."""
    head = b"POST /api/blobs/sha256:%s HTTP/1.1\r\nhost: localhost\r\ncontent-length: 100000\r\n\r\n" % (b"0" * 64)
    with fleet_router(fleet, body_timeout=1.0) as router, _connect(router.url) as upload:
        upload.sendall(head + b"x")
        assert upload.recv(4096).startswith(b"HTTP/1.1 403"), "no admin key: refused at once"
        assert _closed_by_router(upload, b"x"), "the rest of the body is on the clock"
        assert _served(router.url)
    assert fleet.t4.observed.requests == [] and len(fleet.l4.observed.requests) == 1


@contextmanager
def _slow_stream_fleet() -> Iterator[str]:
    with running_sim(SimConfig(name="slow", models=("llama3.2:3b",), tokens=40, token_rate=10)) as sim:
        document = model_map({"slow": sim.url}, {"llama3.2:3b": ["slow"]})
        with running_router(document, max_connections=6, head_timeout=30.0) as router:
            yield router.url


def test_over_the_cap_new_clients_get_a_fast_503_while_streams_go_on() -> None:
    chat = json.dumps({"model": "llama3.2:3b", "messages": [{"role": "user", "content": "hi"}]}).encode()
    request = b"POST /api/chat HTTP/1.1\r\nhost: localhost\r\ncontent-length: %d\r\n\r\n%s" % (len(chat), chat)
    with _slow_stream_fleet() as url, ExitStack() as stack:
        stream = stack.enter_context(_connect(url))
        stream.sendall(request)
        received = stream.recv(65536)
        assert received.startswith(b"HTTP/1.1 200"), received
        idle = [stack.enter_context(_connect(url)) for _ in range(5)]
        over = _connect(url)
        refused = over.recv(4096)
        assert refused.startswith(b"HTTP/1.1 503") and b"connection: close" in refused.lower()
        assert b"FLEET_MAX_CONNECTIONS" in refused and _closed_by_router(over)
        over.close()
        while b'"done":true' not in received:
            chunk = stream.recv(65536)
            assert chunk, "the stream in flight was cut"
            received += chunk
        for sock in idle:
            sock.close()
        assert httpx.get(url + "/healthz", timeout=GUARD).status_code == 200, "room again once clients leave"


def test_the_open_files_limit_is_raised_to_fit_the_cap_or_start_up_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(resource, "getrlimit", lambda _: (1024, 20000))
    monkeypatch.setattr(resource, "setrlimit", lambda _, limits: calls.append(limits))
    assert fit_open_files(4096) == 8448 and calls == [(8448, 20000)]
    assert fit_open_files(100) == 1024 and len(calls) == 1, "a soft limit that fits is left alone"
    with pytest.raises(SettingsError, match=r"FLEET_MAX_CONNECTIONS: 20000 connections need 40256 open files"):
        fit_open_files(20000)


def test_the_router_refuses_to_start_when_the_hard_limit_cannot_fit_the_cap(tmp_path: Path) -> None:
    """Refused before it listens (were it to start instead, the run would time out and the test fail)."""
    model_map_file = tmp_path / "map.json"
    model_map_file.write_text(json.dumps({"backends": [{"name": "a", "url": "http://127.0.0.1:9"}]}))
    env = {**os.environ, "FLEET_MODEL_MAP": str(model_map_file), "FLEET_MAX_CONNECTIONS": str(10**9)}
    done = subprocess.run(
        [sys.executable, "-m", "router", "--port", "1"],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "FLEET_MAX_CONNECTIONS" in done.stderr and "hard RLIMIT_NOFILE" in done.stderr
