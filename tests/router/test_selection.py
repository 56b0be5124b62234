"""Choosing backends and replicas: priority, load scaled by weight, circuits, caps and the wait queue."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from config.model_map import Backend as BackendSpec
from config.model_map import RouteTarget, parse_model_map
from router.balancing.admission import BUSY, QueueLimits, admit
from router.balancing.backends import Backend, backend_problems
from router.balancing.circuit import CircuitBreaker, CircuitPolicy, CircuitState
from router.balancing.selection import Choice, Unavailable, choices, rank

NO_QUEUE = QueueLimits(length=0, wait=1.0)


def _backends(*names: str, cap: int | None = None, policy: CircuitPolicy | None = None) -> dict[str, Backend]:
    return {
        name: Backend(
            BackendSpec(name=name, url=f"http://{name}:11434", max_in_flight=cap), connect_timeout=1.0, policy=policy
        )
        for name in names
    }


def _open(backend: Backend) -> None:
    for replica in backend.replicas:
        for _ in range(replica.circuit.policy.failures):
            replica.record_failure("refused")


def run(coro: Coroutine[Any, Any, None]) -> None:
    """Run ``coro`` with a generous bound against hangs."""

    async def bounded() -> None:
        async with asyncio.timeout(10):
            await coro

    asyncio.run(bounded())


def test_lower_priority_first() -> None:
    pool = _backends("t4", "l4")
    targets = [RouteTarget(name="t4", priority=1), RouteTarget(name="l4", priority=0)]
    assert [b.name for b in rank(choices(targets, pool))] == ["l4", "t4"]


def test_least_outstanding_scaled_by_weight_within_a_priority() -> None:
    pool = _backends("t4", "l4")
    targets = [RouteTarget(name="t4", weight=3.0), RouteTarget(name="l4", weight=1.0)]
    assert rank(choices(targets, pool))[0].name == "t4"
    pool["t4"].in_flight = 3
    assert rank(choices(targets, pool))[0].name == "l4"


def test_backends_missing_from_the_map_are_not_choices() -> None:
    pool = _backends("t4")
    assert [c.backend.name for c in choices([RouteTarget(name="gone"), RouteTarget(name="t4")], pool)] == ["t4"]


def test_open_circuits_are_skipped_and_all_open_is_a_fast_503() -> None:
    pool = _backends("t4", "l4", policy=CircuitPolicy(failures=2, open_seconds=60.0))
    _open(pool["t4"])
    options = choices([RouteTarget(name="t4"), RouteTarget(name="l4", priority=1)], pool)
    assert [b.name for b in rank(options)] == ["l4"]
    _open(pool["l4"])
    with pytest.raises(Unavailable) as refused:
        rank(options)
    assert refused.value.reason == "circuit_open" and 59 <= refused.value.retry_after <= 60
    assert "t4, l4" in refused.value.message


def test_a_due_half_open_trial_is_let_through_once() -> None:
    pool = _backends("t4", policy=CircuitPolicy(failures=1, open_seconds=0.0))
    _open(pool["t4"])
    options = [Choice(pool["t4"])]
    assert rank(options) == [pool["t4"]], "the trial is due at once with open_seconds 0"
    replica = pool["t4"].replicas[0]
    assert replica.circuit.on_dispatch(), "the dispatched request is the trial"
    with pytest.raises(Unavailable):
        rank(options)
    replica.circuit.on_abandon()
    assert rank(options) == [pool["t4"]], "an abandoned trial frees the next request to be the trial"


def _state(circuit: CircuitBreaker) -> CircuitState:
    """Read the state through a call, so the type checker does not narrow it across transitions."""
    return circuit.state


def test_the_circuit_opens_then_lets_one_trial_through() -> None:
    circuit = CircuitBreaker(CircuitPolicy(failures=3, open_seconds=10.0))
    circuit.on_failure(0.0)
    circuit.on_failure(0.0)
    assert circuit.allows(0.0) and _state(circuit) is CircuitState.CLOSED
    assert circuit.on_failure(0.0), "the third failure opens it"
    assert _state(circuit) is CircuitState.OPEN and not circuit.allows(1.0)
    assert circuit.retry_in(1.0) == 9.0
    assert circuit.allows(11.0) and _state(circuit) is CircuitState.HALF_OPEN
    circuit.on_dispatch()
    assert not circuit.allows(11.0), "only one trial while half-open"
    assert circuit.on_failure(11.0), "a failed trial opens it again"
    assert _state(circuit) is CircuitState.OPEN
    assert circuit.allows(30.0)
    circuit.on_dispatch()
    assert circuit.on_success(), "a successful trial closes it"
    assert _state(circuit) is CircuitState.CLOSED and circuit.allows(30.0)


def test_health_aggregates_replicas() -> None:
    backend = _backends("t4")["t4"]
    assert (backend.health, backend.circuit) == ("unknown", CircuitState.CLOSED)
    backend.set_addresses(["10.0.0.1", "10.0.0.2"])
    first, second = backend.replicas
    first.record_failure("connection refused")
    assert backend.health == "unknown", "one replica down, one not yet seen"
    second.record_success()
    assert backend.health == "up"
    _open(backend)
    assert (backend.health, backend.circuit) == ("down", CircuitState.OPEN)
    status = backend.status()
    assert status["healthy"] is False and status["last_error"] == "refused"
    assert [r["address"] for r in status["replicas"]] == ["10.0.0.1:11434", "10.0.0.2:11434"]  # type: ignore[attr-defined]
    second.record_success()
    assert backend.circuit is CircuitState.CLOSED and backend.gauges().healthy


def test_addresses_keep_their_replicas_and_ties_rotate() -> None:
    backend = _backends("t4")["t4"]
    assert backend.set_addresses(["10.0.0.1", "10.0.0.2"]) != []
    first = backend.replicas[0]
    assert backend.set_addresses(["10.0.0.2", "10.0.0.1"]) == [], "the same set in another order changes nothing"
    removed = backend.set_addresses(["10.0.0.1", "10.0.0.3"])
    assert backend.replicas[0] is first and [r.address for r in removed] == ["10.0.0.2:11434"]
    picks = {backend.eligible(0.0)[0].address for _ in range(4)}
    assert picks == {"10.0.0.1:11434", "10.0.0.3:11434"}, "idle replicas take turns"
    backend.replicas[0].in_flight = 1
    assert all(backend.eligible(0.0)[0].address == "10.0.0.3:11434" for _ in range(3)), "least in flight first"


def test_admission_spills_to_the_next_backend_with_room_then_refuses() -> None:
    async def scenario() -> None:
        pool = _backends("t4", "l4", cap=1)
        ranked = [pool["t4"], pool["l4"]]
        assert await admit(ranked, NO_QUEUE) is pool["t4"]
        assert await admit(ranked, NO_QUEUE) is pool["l4"]
        with pytest.raises(Unavailable) as refused:
            await admit(ranked, NO_QUEUE)
        assert (refused.value.message, refused.value.reason) == (BUSY, "overloaded")
        assert refused.value.retry_after >= 1

    run(scenario())


def test_queued_requests_get_freed_slots_in_arrival_order() -> None:
    async def scenario() -> None:
        backend = _backends("t4", cap=1)["t4"]
        limits = QueueLimits(length=2, wait=10.0)
        assert await admit([backend], limits) is backend
        served: list[str] = []

        async def wait(name: str) -> None:
            await admit([backend], limits)
            served.append(name)

        first = asyncio.create_task(wait("first"))
        await asyncio.sleep(0)
        second = asyncio.create_task(wait("second"))
        await asyncio.sleep(0)
        assert len(backend.waiters) == 2
        with pytest.raises(Unavailable):
            await admit([backend], limits)
        assert not backend.try_occupy(), "nobody jumps the queue"
        backend.release()
        await first
        assert served == ["first"] and backend.in_flight == 1
        backend.release()
        await second
        assert served == ["first", "second"] and backend.in_flight == 1 and not backend.waiters

    run(scenario())


def test_a_queued_request_times_out_and_leaves_the_queue() -> None:
    async def scenario() -> None:
        backend = _backends("t4", cap=1)["t4"]
        assert backend.try_occupy()
        with pytest.raises(Unavailable) as refused:
            await admit([backend], QueueLimits(length=1, wait=0.05))
        assert refused.value.reason == "overloaded"
        assert not backend.waiters and backend.in_flight == 1
        waiting = asyncio.create_task(admit([backend], QueueLimits(length=1, wait=10.0)))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert not backend.waiters, "a client that left is no longer waiting"

    run(scenario())


def test_raising_the_cap_wakes_waiters() -> None:
    async def scenario() -> None:
        backend = _backends("t4", cap=1)["t4"]
        assert backend.try_occupy()
        waiting = asyncio.create_task(admit([backend], QueueLimits(length=1, wait=10.0)))
        await asyncio.sleep(0)
        backend.max_in_flight = 2
        assert not backend.try_occupy(), "a waiter comes before a newcomer even when there is room"
        backend.wake()
        assert await waiting is backend and backend.in_flight == 2

    run(scenario())


def test_a_ca_file_without_https_is_refused_clearly() -> None:
    document = parse_model_map({"backends": [{"name": "x", "url": "http://x.example", "ca_file": "/ca.pem"}]})
    problems = backend_problems(document)
    assert [p.path for p in problems] == ["backends[0].ca_file"] and "only applies to an https://" in str(problems[0])
    assert backend_problems(parse_model_map({"backends": [{"name": "x", "url": "https://x.example"}]})) == []
    assert Backend(BackendSpec(name="x", url="https://x.example"), connect_timeout=1.0).port == 443
