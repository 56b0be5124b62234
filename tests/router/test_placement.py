"""Warm-first placement on hand-made fleet states: which replica a request for a model tries first."""

from __future__ import annotations

import pytest

from config.model_map import Backend as BackendSpec
from config.model_names import model_key
from router.balancing.backends import Backend
from router.balancing.placement import Planner, Policy, expected_wait, model_of, running_model
from router.balancing.ps_poll import resident_models
from router.balancing.residency import Visit
from router.balancing.routing_table import UNROUTED
from router.balancing.selection import Choice

QWEN = "qwen2.5:7b"
LLAMA = "llama3.1:8b"
NOW = 1000.0


def backend(name: str, addresses: int = 1, num_parallel: int | None = None) -> Backend:
    """A backend with ``addresses`` replicas (10.0.0.1, 10.0.0.2 ...); nothing is connected."""
    spec = BackendSpec(name=name, url=f"http://{name}:11434", resolve=addresses > 1, num_parallel=num_parallel)
    made = Backend(spec, connect_timeout=1.0)
    if addresses > 1:
        made.set_addresses([f"10.0.0.{index}" for index in range(1, addresses + 1)])
    return made


def first(options: list[Choice], model: str = QWEN, policy: Policy = Policy.WARM_FIRST) -> str:
    """``backend/address`` of the replica the request tries first."""
    plan = Planner(policy).plan(options, model_of(model), NOW)
    chosen = plan.backends[0]
    return f"{chosen.name}/{plan.replicas_of(chosen, NOW)[0].host}"


def resident(target: Backend, index: int, *models: str, at: float = NOW) -> None:
    """Replica ``index`` of ``target`` holds ``models`` (as a poll just said)."""
    target.replicas[index].residency.polled([model_key(model) for model in models], at, at)
    target.timings.most_resident = max(target.timings.most_resident, len(models))


def busy(target: Backend, index: int, model: str, count: int) -> None:
    """``count`` requests for ``model`` are in flight at replica ``index``."""
    for _ in range(count):
        target.replicas[index].residency.begin(model_key(model), NOW)
        target.replicas[index].in_flight += 1
        target.in_flight += 1


def test_a_warm_replica_beats_a_cold_one_whatever_the_map_order() -> None:
    t4, l4 = backend("t4"), backend("l4")
    resident(l4, 0, QWEN)
    assert first([Choice(t4), Choice(l4)]) == "l4/l4"
    assert first([Choice(t4), Choice(l4)], model=LLAMA) == "t4/t4", "cold everywhere: map order among equals"
    pool = backend("pool", addresses=3)
    resident(pool, 2, QWEN)
    assert first([Choice(pool)]) == "pool/10.0.0.3"


def test_least_outstanding_and_round_robin_ignore_residency() -> None:
    t4, l4 = backend("t4"), backend("l4")
    resident(l4, 0, QWEN)
    assert first([Choice(t4), Choice(l4)], policy=Policy.LEAST_OUTSTANDING) == "t4/t4"
    planner = Planner(Policy.ROUND_ROBIN)
    turns = [planner.plan([Choice(t4), Choice(l4)], model_key(QWEN), NOW).backends[0].name for _ in range(4)]
    assert sorted(turns) == ["l4", "l4", "t4", "t4"]


def test_a_saturated_warm_replica_is_weighed_against_a_load_elsewhere() -> None:
    t4, l4 = backend("t4", num_parallel=2), backend("l4", num_parallel=2)
    resident(t4, 0, QWEN)
    t4.timings.load.observe(model_key(QWEN), 8.0)
    l4.timings.load.observe(model_key(QWEN), 8.0)
    busy(t4, 0, QWEN, 1)
    assert first([Choice(t4), Choice(l4)]) == "t4/t4", "a free parallel slot: no wait at all"
    busy(t4, 0, QWEN, 1)
    t4.timings.service.observe(model_key(QWEN), 2.0)
    assert first([Choice(t4), Choice(l4)]) == "t4/t4", "queueing 2 s beats loading 8 s"
    t4.timings.service.values[model_key(QWEN)] = 30.0
    assert first([Choice(t4), Choice(l4)]) == "l4/l4", "queueing 30 s loses to loading 8 s"
    assert expected_wait(model_key(QWEN), l4.replicas[0], l4, NOW) == (8.0, 1)


def test_weights_keep_their_meaning_among_equals() -> None:
    big, small = backend("big"), backend("small")
    for target in (big, small):
        resident(target, 0, QWEN)
    options = [Choice(big, weight=3.0), Choice(small, weight=1.0)]
    big.in_flight = 2
    assert first(options) == "big/big", "(2 + 1) / 3 = 1 ties (0 + 1) / 1: map order"
    big.in_flight = 3
    assert first(options) == "small/small", "(3 + 1) / 3 > 1"


def test_a_cold_model_goes_where_it_evicts_the_least() -> None:
    pool = backend("pool", addresses=3)
    resident(pool, 0, LLAMA)
    resident(pool, 1, "mistral:7b")
    resident(pool, 2, "gemma2:9b")
    pool.replicas[0].residency.last_used[model_key(LLAMA)] = NOW - 5
    pool.replicas[1].residency.last_used[model_key("mistral:7b")] = NOW - 500
    pool.replicas[2].residency.last_used[model_key("gemma2:9b")] = NOW - 900
    busy(pool, 2, "gemma2:9b", 1)
    assert first([Choice(pool)]) == "pool/10.0.0.2", "idle and least recently used; never the busy one"
    empty = backend("spare")
    assert first([Choice(pool), Choice(empty)]) == "spare/spare", "a free model slot beats any eviction"


def test_stale_poll_data_ages_out_and_answers_outlive_an_older_poll() -> None:
    t4, l4 = backend("t4"), backend("l4")
    resident(t4, 0, QWEN, at=NOW - 60)
    assert first([Choice(l4), Choice(t4)]) == "t4/t4"
    t4.replicas[0].residency.prune(before=NOW - 15)
    assert first([Choice(l4), Choice(t4)]) == "l4/l4", "unconfirmed for three intervals: forgotten"
    residency, key = l4.replicas[0].residency, model_key(QWEN)
    visit = Visit.begin(key, residency, l4.timings, 1, NOW)
    visit.answered(200, NOW + 3)
    residency.polled([], asked=NOW + 1, now=NOW + 4)
    assert residency.holds(key), "the answer came after the poll left: the poll is older news"
    visit.end(NOW + 5, completed=True)
    residency.polled([], asked=NOW + 6, now=NOW + 7)
    assert not residency.holds(key)
    assert l4.timings.load.get(key) == pytest.approx(3.0), "a cold first byte is the load time"


def test_a_replica_that_vanished_is_not_planned() -> None:
    pool = backend("pool", addresses=2)
    resident(pool, 1, QWEN)
    assert first([Choice(pool)]) == "pool/10.0.0.2"
    gone = pool.set_addresses(["10.0.0.1"])
    assert [replica.host for replica in gone] == ["10.0.0.2"]
    assert first([Choice(pool)]) == "pool/10.0.0.1"


def test_models_of_the_default_backend_fall_back_to_least_outstanding() -> None:
    t4, l4 = backend("t4"), backend("l4")
    resident(l4, 0, QWEN)
    t4.in_flight = 1
    assert first([Choice(t4), Choice(l4)], model=UNROUTED) == "l4/l4"
    resident(t4, 0, "phi3:mini")
    l4.in_flight = 2
    assert first([Choice(t4), Choice(l4)], model=UNROUTED) == "t4/t4"


def test_only_requests_that_run_a_model_are_placed_by_residency() -> None:
    assert running_model(b"/api/chat", QWEN) == model_key(QWEN)
    assert running_model(b"/v1/chat/completions?x=1", QWEN) == model_key(QWEN)
    assert running_model(b"/api/show", QWEN) is None, "showing a model does not load it"
    assert running_model(b"/api/chat", UNROUTED) is None


def test_ps_answers_are_read_as_ollama_names_them() -> None:
    body = b'{"models":[{"name":"Qwen2.5:7b","model":"qwen2.5:7b"},{"name":"x","model":"library/llama3.1:8b"}]}'
    assert resident_models(body) == [model_key(QWEN), model_key(LLAMA)]
    assert resident_models(b'{"models":[]}') == []
    assert resident_models(b"<html>") is None
