"""``resolve: true`` backends: every address of the host is a replica, and requests spread over them.

Three simulated Ollamas listen on 127.0.0.1, 127.0.0.2 and 127.0.0.3 with the same port, as three pods
behind a headless Service do; the backend's URL names ``localhost`` and an injected resolver maps it to
the three addresses (the system resolver would give only one on a test machine).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from config.model_map import parse_model_map
from ollama_sim import RunningSim, SimConfig, running_sim
from router.balancing.resolver import ReplicaResolver, system_resolve
from router.runtime.settings import RouterSettings
from router.runtime.state import FleetState
from tests.router.harness import eventually, running_router

GUARD = 15.0
"""Bound for every wait and client call: a guard against hangs, not a timing assertion."""

ADDRESSES = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
BODY = {"model": "llama3.2:3b", "prompt": "hi", "stream": False}


@contextmanager
def _pods() -> Iterator[list[RunningSim]]:
    """Three sims on one port, one per loopback address."""
    with ExitStack() as stack:
        first = stack.enter_context(running_sim(SimConfig(name="pod-0", host=ADDRESSES[0])))
        sims = [first]
        for index, address in enumerate(ADDRESSES[1:], start=1):
            config = SimConfig(name=f"pod-{index}", host=address, port=first.port)
            sims.append(stack.enter_context(running_sim(config)))
        yield sims


def _seen(pods: list[RunningSim], count: int) -> bool:
    """Whether the pods have seen ``count`` requests between them."""
    return sum(len(pod.observed.requests) for pod in pods) == count


def _document(port: int) -> dict[str, Any]:
    return {
        "backends": [{"name": "pool", "url": f"http://localhost:{port}", "resolve": True}],
        "routes": [{"model": "llama3.2:3b", "backends": ["pool"]}],
    }


def test_requests_spread_over_every_resolved_address() -> None:
    looked_up: list[tuple[str, int]] = []

    async def resolve(host: str, port: int) -> list[str]:
        looked_up.append((host, port))
        return list(reversed(ADDRESSES))

    spread = {"circuit_failures": 1, "balance": "least-outstanding"}
    with _pods() as pods, running_router(_document(pods[0].port), resolve=resolve, **spread) as router:
        assert looked_up == [("localhost", pods[0].port)], "resolved at start-up, before the first request"
        status = httpx.get(router.url + "/fleet/status", timeout=GUARD).json()["backends"][0]
        assert [r["address"] for r in status["replicas"]] == [f"{a}:{pods[0].port}" for a in ADDRESSES]
        for _ in range(6):
            assert httpx.post(router.url + "/api/generate", json=BODY, timeout=GUARD).status_code == 200
        assert [len(pod.observed.requests) for pod in pods] == [2, 2, 2], "idle replicas take turns"
        assert all(r.headers["host"] == f"localhost:{pods[0].port}" for r in pods[0].observed.requests)

        pods[1].stop()
        for _ in range(6):
            response = httpx.post(router.url + "/api/generate", json=BODY, timeout=GUARD)
            assert (response.status_code, response.headers["x-fleet-backend"]) == (200, "pool")
        backend = router.state.backend("pool")
        assert backend is not None
        states = {r.address.split(":")[0]: r.circuit.state.value for r in backend.replicas}
        assert states == {"127.0.0.1": "closed", "127.0.0.2": "open", "127.0.0.3": "closed"}
        assert backend.status()["health"] == "up" and backend.status()["circuit"] == "closed"


def test_requests_in_flight_land_on_distinct_replicas() -> None:
    """Each new request goes to the replica with the fewest in flight, so three open requests use all three."""

    async def resolve(host: str, port: int) -> list[str]:
        return ADDRESSES

    with _pods() as pods, running_router(_document(pods[0].port), resolve=resolve) as router, ExitStack() as clients:
        for pod in pods:
            pod.faults.hang = True
        host, port = router.url.removeprefix("http://").split(":")
        body = json.dumps(BODY).encode()
        for opened in range(1, 4):
            client = clients.enter_context(socket.create_connection((host, int(port)), timeout=GUARD))
            client.sendall(
                b"POST /api/generate HTTP/1.1\r\nhost: localhost\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
            )
            assert eventually(partial(_seen, pods, opened)), f"request {opened} reached a replica"
        assert [len(pod.observed.requests) for pod in pods] == [1, 1, 1], "one request in flight on each replica"
        backend = router.state.backend("pool")
        assert backend is not None and [r.in_flight for r in backend.replicas] == [1, 1, 1]


def test_re_resolving_adds_and_retires_replicas() -> None:
    answers = [["10.0.0.1", "10.0.0.2"], ["10.0.0.2", "10.0.0.3"], []]

    async def resolve(host: str, port: int) -> list[str]:
        return answers.pop(0)

    async def scenario() -> None:
        state = FleetState(RouterSettings(model_map=Path("m")), parse_model_map(_document(11434)))
        backend = state.backend("pool")
        assert backend is not None and [r.address for r in backend.replicas] == ["localhost:11434"]
        resolver = ReplicaResolver(state.backends, 5.0, 10.0, resolve)
        await resolver.refresh([backend])
        kept = backend.replicas[1]
        await resolver.refresh([backend])
        assert [r.address for r in backend.replicas] == ["10.0.0.2:11434", "10.0.0.3:11434"]
        assert backend.replicas[0] is kept, "an address that stays keeps its pool, load and circuit"
        await resolver.refresh([backend])
        assert len(backend.replicas) == 2, "an empty answer keeps the last known addresses"
        await state.backends.aclose()

    asyncio.run(scenario())


def test_the_system_resolver_finds_localhost() -> None:
    assert "127.0.0.1" in asyncio.run(system_resolve("localhost", 11434))


def test_the_resolver_runs_periodically() -> None:
    answers = [ADDRESSES[:1]]

    async def resolve(host: str, port: int) -> list[str]:
        return answers[-1]

    with _pods() as pods, running_router(_document(pods[0].port), resolve=resolve, resolve_interval=0.05) as router:
        backend = router.state.backend("pool")
        assert backend is not None and [r.host for r in backend.replicas] == ADDRESSES[:1]
        answers.append(ADDRESSES)
        assert eventually(lambda: [r.host for r in backend.replicas] == ADDRESSES), "a scaled-up pool is seen"
        answers.append(ADDRESSES[2:])
        assert eventually(lambda: [r.host for r in backend.replicas] == ADDRESSES[2:]), "a scaled-down one too"
        response = httpx.post(router.url + "/api/generate", json=BODY, timeout=GUARD)
        assert response.status_code == 200 and len(pods[2].observed.requests) == 1
