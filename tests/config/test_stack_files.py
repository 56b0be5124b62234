"""The committed stacks validate, and `make check-config` reports what a newcomer needs."""

from __future__ import annotations

import copy
import subprocess
import sys
from typing import Any

from config.cli import main
from config.derive import derive_model_map
from config.model_names import model_key
from tests.config.stacks import ROOT, accepted, stack_data


def test_dev_stack_is_a_gke_fleet_of_several_generations_and_a_cpu_pool() -> None:
    stack = accepted(stack_data("dev"))
    assert stack.is_gke
    gpus = {pool.gpu for pool in stack.pools}
    assert {"nvidia-tesla-t4", "nvidia-l4", "nvidia-tesla-a100", None} <= gpus
    cpu_pool = next(pool for pool in stack.pools if pool.gpu is None)
    assert cpu_pool.driver is None
    assert any("embed" in model for model in cpu_pool.ollama.models)


def test_home_stack_adopts_an_existing_cluster_with_a_k80() -> None:
    stack = accepted(stack_data("home"))
    assert not stack.is_gke
    k80 = stack.pool("k80")
    assert k80 is not None
    assert k80.driver is not None and k80.driver.startswith("470.")
    assert k80.ollama.min_driver is not None
    assert {pool.gpu for pool in stack.pools} >= {"nvidia-tesla-k80", "nvidia-tesla-m40"}


def test_dev_model_map_routes_every_pool_model_to_its_pool() -> None:
    stack = accepted(stack_data("dev"))
    routes = derive_model_map(stack).routes_by_key()
    for pool in stack.pools:
        for model in pool.ollama.models:
            assert pool.name in [target.name for target in routes[model_key(model)].backends], (
                pool.name,
                model,
            )


def test_model_map_tells_the_router_each_pools_num_parallel() -> None:
    data = stack_data("dev")
    stack = accepted(data)
    backends = {backend.name: backend for backend in derive_model_map(stack).backends}
    for pool in stack.pools:
        expected = int(pool.ollama.env.get("OLLAMA_NUM_PARALLEL", 1))
        assert backends[pool.name].num_parallel == expected, pool.name
    first = stack.pools[0]
    changed = accepted(_with_env(data, first.name, {"OLLAMA_NUM_PARALLEL": "3"}))
    assert {b.name: b.num_parallel for b in derive_model_map(changed).backends}[first.name] == 3


def _with_env(data: dict[str, Any], pool: str, env: dict[str, str]) -> dict[str, Any]:
    """``data`` with ``env`` added to the Ollama environment of ``pool``."""
    copied = copy.deepcopy(data)
    for entry in copied["pools"]:
        if entry["name"] == pool:
            entry.setdefault("ollama", {}).setdefault("env", {}).update(env)
    return copied


def test_check_config_prints_a_summary_for_each_committed_stack(capsys: object) -> None:
    for name in ("dev", "home", "hybrid"):
        assert main(["check", str(ROOT / f"Pulumi.{name}.yaml")]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "valid" in out
    assert "driver 470.256.02" in out
    assert "qwen2.5:7b" in out
    assert "HTTPS for ollama.dev.example.org" in out
    assert "plain HTTP by choice" in out
    assert "home-k80 external https://203.0.113.25:11434 (private CA, no token)" in out


def test_check_config_fails_with_the_path_of_each_problem(tmp_path: object) -> None:
    bad = tmp_path / "Pulumi.bad.yaml"  # type: ignore[operator]
    bad.write_text(
        "config:\n"
        "  gcp:project: p\n"
        "  ollama-fleet:pools:\n"
        "    - name: old\n"
        "      gpu: nvidia-tesla-k80\n"
        "      zones: [us-central1-a]\n"
        '      driver: "470.256.02"\n'
        "      nodes: {min: 3, max: 2}\n"
        "  ollama-fleet:routs: []\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "config", "check", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "ollama-fleet:routs: unknown key. Fix: use one of: cluster, pools," in result.stderr
    assert "pools[0].gpu: nvidia-tesla-k80 (NVIDIA Tesla K80) is not offered by GCP. Fix: " in result.stderr
    assert "pools[0].nodes: min (3) is greater than max (2)" in result.stderr
    assert result.stdout == ""


def test_committed_schema_is_current() -> None:
    from config.schema import render_schema

    committed = (ROOT / "schema" / "pulumi-stack.schema.json").read_text(encoding="utf-8")
    assert committed == render_schema(), "run `make schema` and commit schema/pulumi-stack.schema.json"
