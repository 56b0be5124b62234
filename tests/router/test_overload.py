"""A backend at its ``max_in_flight``: a short FIFO queue, then 503 with Retry-After in the path's shape.

The slot is held by a request the backend never answers (``hang``) from a raw socket, and freed by
hanging up that socket, so no assertion depends on how long anything takes.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from router.balancing.admission import BUSY
from tests.router.conftest import Fleet, fleet_router
from tests.router.harness import RunningRouter, eventually

GUARD = 15.0
"""Client timeout and wait bound: a guard against hangs, not a timing assertion."""

BODY = {"model": "llama3.2:3b", "messages": [{"role": "user", "content": "hi"}], "stream": False}


def _capped(fleet: Fleet) -> dict[str, Any]:
    document = fleet.document()
    for backend in document["backends"]:
        backend["max_in_flight"] = 1
    return document


@contextmanager
def _slot_held(fleet: Fleet, router: RunningRouter) -> Iterator[None]:
    """t4's only slot is taken by a request t4 never answers, until the block ends and its client leaves."""
    fleet.t4.faults.hang = True
    host, port = router.url.removeprefix("http://").split(":")
    body = json.dumps(BODY).encode()
    try:
        with socket.create_connection((host, int(port)), timeout=GUARD) as holder:
            holder.sendall(
                b"POST /api/chat HTTP/1.1\r\nhost: localhost\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
            )
            assert fleet.t4.observed.wait_until(lambda seen: len(seen.requests) == 1, timeout=GUARD)
            yield
            fleet.t4.faults.hang = False  # before hanging up: the freed slot's next request must be answered
    finally:
        fleet.t4.faults.hang = False


def _t4_idle(router: RunningRouter) -> bool:
    backend = router.state.backend("t4")
    return backend is not None and backend.in_flight == 0 and not backend.waiters


def test_a_full_backend_without_a_queue_answers_503_with_retry_after(fleet: Fleet) -> None:
    with fleet_router(fleet, document=_capped(fleet), queue_length=0) as router:
        with _slot_held(fleet, router):
            refused = httpx.post(router.url + "/api/chat", json=BODY, timeout=GUARD)
            assert (refused.status_code, refused.json()) == (503, {"error": BUSY})
            assert int(refused.headers["retry-after"]) >= 1
            openai = httpx.post(router.url + "/v1/chat/completions", json=BODY, timeout=GUARD)
            assert openai.status_code == 503 and openai.headers["retry-after"]
            assert openai.json()["error"] == {"message": BUSY, "type": "api_error", "param": None, "code": None}
            assert len(fleet.t4.observed.requests) == 1, "refused requests never reached the backend"
        assert eventually(lambda: _t4_idle(router)), "the slot is freed when its client leaves"
        assert httpx.post(router.url + "/api/chat", json=BODY, timeout=GUARD).status_code == 200
        metrics = httpx.get(router.url + "/metrics", timeout=GUARD).text
        assert 'fleet_errors_total{endpoint="chat",reason="overloaded"} 1' in metrics


def test_queued_requests_wait_for_a_slot_and_the_queue_is_bounded(fleet: Fleet) -> None:
    queued: list[httpx.Response] = []
    with fleet_router(fleet, document=_capped(fleet), queue_length=1, queue_wait=GUARD) as router:
        backend = router.state.backend("t4")
        assert backend is not None
        waiter = threading.Thread(
            target=lambda: queued.append(httpx.post(router.url + "/api/chat", json=BODY, timeout=GUARD))
        )
        with _slot_held(fleet, router):
            waiter.start()
            assert eventually(lambda: len(backend.waiters) == 1), "the second request waits in the router"
            assert len(fleet.t4.observed.requests) == 1
            status = httpx.get(router.url + "/fleet/status", timeout=GUARD).json()
            t4 = next(b for b in status["backends"] if b["name"] == "t4")
            assert (t4["in_flight"], t4["max_in_flight"], t4["queued"]) == (1, 1, 1)
            metrics = httpx.get(router.url + "/metrics", timeout=GUARD).text
            assert 'fleet_backend_queued{backend="t4"} 1' in metrics
            refused = httpx.post(router.url + "/api/chat", json=BODY, timeout=GUARD)
            assert refused.status_code == 503 and refused.headers["retry-after"], "the queue is full"
        waiter.join(GUARD)
        assert [r.status_code for r in queued] == [200], "the waiter got the freed slot"
        assert len(fleet.t4.observed.requests) == 2
        assert eventually(lambda: _t4_idle(router))


def test_a_queue_wait_that_runs_out_is_a_503(fleet: Fleet) -> None:
    with (
        fleet_router(fleet, document=_capped(fleet), queue_length=4, queue_wait=0.05) as router,
        _slot_held(fleet, router),
    ):
        refused = httpx.post(router.url + "/api/chat", json=BODY, timeout=GUARD)
        assert (refused.status_code, refused.json()) == (503, {"error": BUSY})
        assert refused.headers["retry-after"]
        backend = router.state.backend("t4")
        assert backend is not None and not backend.waiters, "the request that gave up left the queue"
