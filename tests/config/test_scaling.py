"""Scale to zero in the stack config and the model map: durations, refusals, and what the router is told."""

from __future__ import annotations

from typing import Any

import pytest

from config.derive import derive_model_map
from config.errors import ConfigError
from config.model_map import parse_model_map
from config.scaling import duration_seconds
from tests.config.stacks import accepted, at, refused, stack_data


def _pool(data: dict[str, Any], name: str) -> dict[str, Any]:
    pool: dict[str, Any] = next(p for p in data["pools"] if p["name"] == name)
    return pool


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("1h", 3600), ("15m", 900)])
def test_durations_read_as_kubernetes_users_write_them(text: str, seconds: int) -> None:
    assert duration_seconds(text) == seconds


def test_the_dev_stacks_a100_pool_sleeps_and_the_model_map_tells_the_router_how() -> None:
    document = derive_model_map(accepted(stack_data()))
    scaling = {backend.name: backend.scale for backend in document.backends if backend.scale is not None}
    assert set(scaling) == {"a100"}
    scale = scaling["a100"]
    assert (scale.namespace, scale.statefulset, scale.replicas) == ("ollama-fleet", "ollama-a100", 1)
    assert (scale.idle_after_s, scale.wake_timeout_s) == (1800, 900)


def test_a_pool_with_a_minimum_of_gpu_nodes_is_refused_with_the_fix() -> None:
    data = stack_data()
    _pool(data, "a100")["nodes"] = {"min": 1, "max": 1}
    (problem,) = at(refused(data), "pools[2].ollama.scaleToZero")
    assert "saves nothing with nodes.min 1" in problem.message
    assert "nodes.min: 0" in problem.fix


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"idleAfter": "30 minutes"}, "30m"),
        ({"idleAfter": "20s"}, "use 1m or more"),
        ({"wakeTimeout": "2h"}, "at most 1h"),
        ({"idleAfter": "30m", "sleep": True}, "sleep"),
    ],
)
def test_a_bad_scale_to_zero_names_its_path(spec: dict[str, Any], words: str) -> None:
    data = stack_data()
    _pool(data, "a100")["ollama"]["scaleToZero"] = spec
    problems = [p for p in refused(data) if p.path.startswith("pools[2].ollama.scaleToZero")]
    assert problems, "no problem at pools[2].ollama.scaleToZero"
    assert any(words in str(problem) for problem in problems), [str(p) for p in problems]


def test_an_existing_clusters_pool_may_sleep_whatever_its_nodes() -> None:
    data = stack_data("home")
    data["pools"][0]["ollama"]["scaleToZero"] = {"idleAfter": "1h"}
    stack = accepted(data)
    scale = stack.pools[0].ollama.scale_to_zero
    assert scale is not None
    assert (scale.idle_after_s, scale.wake_timeout_s) == (3600, 900)


def test_the_model_maps_scale_object_is_strict() -> None:
    backend = {"name": "t4", "url": "http://t4:11434"}
    good = {"namespace": "f", "statefulset": "ollama-t4", "replicas": 1, "idle_after_s": 2, "wake_timeout_s": 5}
    parse_model_map({"backends": [{**backend, "scale": good}]})
    with pytest.raises(ConfigError) as caught:
        parse_model_map({"backends": [{**backend, "scale": {**good, "replicas": 0}}]})
    assert "backends[0].scale.replicas" in str(caught.value)


def test_an_external_server_cannot_be_put_to_sleep() -> None:
    data = stack_data("hybrid")
    data["pools"][2]["ollama"] = {"scaleToZero": {"idleAfter": "30m"}}
    problems = refused(data)
    assert [p.path for p in problems] == ["pools[2].ollama"]
    assert "external pool" in problems[0].message
