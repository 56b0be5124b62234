"""The timeout model end to end: connect short, first byte long, idle bounded, and no total limit.

The first-byte timeout (504, not retried) is in ``test_errors.py``; the deadlines of the upstream
client itself are in ``test_upstream.py``.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from ollama_sim import SimConfig, running_sim
from router.runtime.settings import load_settings
from tests.router.harness import model_map, running_router
from tests.router.rawhttp import Fetched, fetch

GUARD = 15.0
"""Client timeout: a guard against hangs, not a timing assertion."""

CHAT = {"model": "llama3.2:3b", "messages": [{"role": "user", "content": "a long answer"}]}


@contextmanager
def _unanswered_listener() -> Iterator[int]:
    """A port whose listen queue is full, so a new connection is never accepted (its SYN is dropped)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = int(server.getsockname()[1])
        fillers = [socket.socket() for _ in range(3)]
        try:
            for filler in fillers:
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
            yield port
        finally:
            for filler in fillers:
                filler.close()


def test_the_defaults_are_short_connect_long_first_byte_bounded_idle() -> None:
    settings = load_settings([], {"FLEET_MODEL_MAP": "m"})
    assert (settings.connect_timeout, settings.first_byte_timeout, settings.idle_timeout) == (5.0, 600.0, 120.0)


def test_a_backend_that_never_accepts_is_a_504_after_the_connect_timeout() -> None:
    with _unanswered_listener() as port:
        document = model_map({"void": f"http://127.0.0.1:{port}"}, {"llama3.2:3b": ["void"]})
        with running_router(document, connect_timeout=0.3) as router:
            response = httpx.post(router.url + "/api/chat", json=CHAT, timeout=GUARD)
    assert response.status_code == 504
    assert response.json() == {"error": "backend void timed out: no connect within 0.3 s"}


def test_an_answer_longer_than_every_timeout_is_never_cut() -> None:
    """A 1.2 s stream with first-byte and idle timeouts of 0.4 s: there is no total deadline."""
    paced = SimConfig(name="paced", models=("llama3.2:3b",), token_rate=20.0, tokens=24)
    with (
        running_sim(paced) as sim,
        running_router(
            model_map({"paced": sim.url}, {"llama3.2:3b": ["paced"]}), first_byte_timeout=0.4, idle_timeout=0.4
        ) as router,
    ):

        async def both() -> list[Fetched]:
            async with asyncio.timeout(GUARD):
                body = json.dumps(CHAT).encode()
                return list(
                    await asyncio.gather(fetch(router.url, "/api/chat", body), fetch(sim.url, "/api/chat", body))
                )

        through, direct = asyncio.run(both())
    assert through.status == 200 and through.complete and through.body == direct.body
    assert through.body.count(b"\n") == 25
