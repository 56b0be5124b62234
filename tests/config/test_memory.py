"""Ollama's host memory: each runner's prompt cache is bounded, and a replica's memory covers its runners."""

from __future__ import annotations

from typing import Any

from config.memory import memory_plan, model_mib
from tests.config.stacks import accepted, at, refused, stack_data
from tests.infra.fleet import containers, env_of, one, pod_spec, run_stack


def _pool(data: dict[str, Any], name: str) -> dict[str, Any]:
    pool: dict[str, Any] = next(p for p in data["pools"] if p["name"] == name)
    return pool


def test_every_runner_gets_a_bounded_prompt_cache_instead_of_llama_cpps_8_gib() -> None:
    stack, run = run_stack("dev")
    for pool in stack.pools:
        server = containers(pod_spec(one(run, "kubernetes:apps/v1:StatefulSet", name=f"ollama-{pool.name}")))
        env = env_of(server["ollama"])
        assert env["LLAMA_ARG_CACHE_RAM"] == "1024", pool.name
        assert int(env["OLLAMA_MAX_LOADED_MODELS"]) == min(len(pool.ollama.models), 3), pool.name
        limits = server["ollama"]["resources"]["limits"]
        assert limits["memory"] == server["ollama"]["resources"]["requests"]["memory"]


def test_memory_follows_the_models_when_not_set() -> None:
    data = stack_data()
    l4 = accepted(data).pool("l4")
    assert l4 is not None and l4.ollama.memory is None
    plan = memory_plan(l4)
    # four models, three runners at most on one GPU: 512 + 3 × (1024 + 1024) MiB
    assert (plan.runners, plan.floor_mib, plan.floor) == (3, 6656, "7Gi")


def test_a_pool_that_sets_its_own_cache_and_runners_keeps_them_and_is_sized_for_them() -> None:
    data = stack_data()
    _pool(data, "l4")["ollama"]["env"].update(LLAMA_ARG_CACHE_RAM="4096", OLLAMA_MAX_LOADED_MODELS="1")
    l4 = accepted(data).pool("l4")
    assert l4 is not None
    plan = memory_plan(l4)
    assert plan.env == {} and (plan.runners, plan.cache_mib, plan.floor) == (1, 4096, "6Gi")


def test_memory_below_the_floor_is_refused_with_the_numbers_and_the_fix() -> None:
    data = stack_data()
    _pool(data, "l4")["ollama"]["memory"] = "4Gi"
    (problem,) = at(refused(data), "pools[1].ollama.memory")
    assert "3 runner(s)" in problem.message and "6656 MiB" in problem.message
    assert "memory: 7Gi" in problem.fix and "LLAMA_ARG_CACHE_RAM" in problem.fix


def test_an_unbounded_cache_counts_as_llama_cpps_default() -> None:
    data = stack_data()
    _pool(data, "t4")["ollama"]["env"]["LLAMA_ARG_CACHE_RAM"] = "-1"
    _pool(data, "t4")["ollama"]["memory"] = "8Gi"
    (problem,) = at(refused(data), "pools[0].ollama.memory")
    assert "8192 MiB prompt cache" in problem.message


def test_cpu_pools_also_hold_the_weights() -> None:
    assert model_mib("qwen2.5:7b") > 3500 and model_mib("qwen2.5:0.5b") < 512
    data = stack_data()
    _pool(data, "cpu")["ollama"].update(models=["qwen2.5:7b", "nomic-embed-text"], memory="6Gi")
    (problem,) = at(refused(data), "pools[3].ollama.memory")
    assert "of weights" in problem.message


def test_a_cache_size_that_is_not_a_number_is_refused() -> None:
    data = stack_data()
    for bad in ("1GiB", "--5"):
        _pool(data, "t4")["ollama"]["env"]["LLAMA_ARG_CACHE_RAM"] = bad
        (problem,) = at(refused(data), "pools[0].ollama.env.LLAMA_ARG_CACHE_RAM")
        assert "whole number of MiB" in problem.message
