"""``python -m config discover``: a stack proposed from recorded node lists, checked as `check` checks it."""

from __future__ import annotations

import copy
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.cli import main
from config.discovery.command import DiscoveryError, read_kubectl
from config.discovery.nodes import parse_nodes
from config.discovery.propose import propose
from config.discovery.suggest import FIT_SHARE, MODEL_SIZES_GB

NODES = Path(__file__).parent / "nodes"
ROUTER_IMAGE = "registry.home.arpa/ollama-fleet-router:0.1.0"


def _discover(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["discover", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _pools(text: str) -> dict[str, dict[str, Any]]:
    config = yaml.safe_load(text)["config"]
    return {pool["name"]: pool for pool in config["ollama-fleet:pools"]}


def _node_labels(name: str) -> dict[str, dict[str, str]]:
    items = json.loads((NODES / name).read_text(encoding="utf-8"))["items"]
    return {item["metadata"]["name"]: item["metadata"]["labels"] for item in items}


@pytest.fixture
def mixed(capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    code, out, err = _discover(capsys, "--nodes-json", str(NODES / "mixed.json"), "--router-image", ROUTER_IMAGE)
    assert code == 0, err
    return out, err


def test_one_pool_per_kind_of_accelerator_plus_cpu(mixed: tuple[str, str]) -> None:
    pools = _pools(mixed[0])
    assert {name: pool.get("gpu") for name, pool in pools.items()} == {
        "k80": "nvidia-tesla-k80",
        "l4": "nvidia-l4",
        "m40": "nvidia-tesla-m40",
        "rx-7900-xtx": "amd-radeon-rx-7900-xtx",
        "cpu": None,
    }
    assert pools["k80"]["gpusPerNode"] == 2


def test_each_node_selector_selects_exactly_that_pools_nodes(mixed: tuple[str, str]) -> None:
    labels = _node_labels("mixed.json")
    selected = {
        name: sorted(
            node for node, own in labels.items() if all(own.get(k) == v for k, v in pool["nodeSelector"].items())
        )
        for name, pool in _pools(mixed[0]).items()
    }
    assert selected == {
        "k80": ["rig-k80"],
        "l4": ["rig-l4-a", "rig-l4-b"],
        "m40": ["rig-m40"],
        "rx-7900-xtx": ["rig-radeon"],
        "cpu": ["rig-cpu-2"],
    }


def test_the_control_plane_is_skipped_and_one_cpu_node_is_left_for_the_router(mixed: tuple[str, str]) -> None:
    _, err = mixed
    assert "rig-cp are tainted for the control plane" in err
    assert "rig-cpu-1 is left out of every pool, for the router" in err


def test_drivers_come_from_gfd_labels_new_and_deprecated(mixed: tuple[str, str]) -> None:
    pools = _pools(mixed[0])
    assert pools["l4"]["driver"] == "580.95.05"
    assert pools["k80"]["driver"] == "470.256.02"


def test_a_k80_gets_a_kepler_build_with_its_driver_floor_not_the_official_image(mixed: tuple[str, str]) -> None:
    k80 = _pools(mixed[0])["k80"]["ollama"]
    assert k80["image"] == "dogkeeper886/ollama37:latest"
    assert k80["minDriver"] == "470.42.01"
    assert _pools(mixed[0])["l4"]["ollama"]["image"] == "ollama/ollama:0.32.15"


def test_the_amd_pool_runs_the_rocm_build_and_pins_no_nvidia_driver(mixed: tuple[str, str]) -> None:
    amd = _pools(mixed[0])["rx-7900-xtx"]
    assert amd["ollama"]["image"].endswith("-rocm")
    assert "driver" not in amd and "minDriver" not in amd["ollama"]
    assert "amdgpu driver 6.12.12" in mixed[1]


def test_suggested_models_fit_one_gpus_memory(mixed: tuple[str, str]) -> None:
    sizes = dict(MODEL_SIZES_GB)
    vram = {"k80": 11, "l4": 22, "m40": 12, "rx-7900-xtx": 24}
    for name, gib in vram.items():
        models = _pools(mixed[0])[name]["ollama"]["models"]
        assert models, name
        assert all(sizes[model] <= gib * FIT_SHARE for model in models), (name, models)
    assert "qwen2.5:14b" in _pools(mixed[0])["l4"]["ollama"]["models"]


def test_what_the_nodes_cannot_tell_is_named_in_comments_and_on_stderr(mixed: tuple[str, str]) -> None:
    out, err = mixed
    assert "#   - pool m40: (required) driver: a GPU pool needs a pinned driver version" in out
    assert "to choose: pool m40: (required) driver:" in err
    assert "to choose: pool m40: gpusPerNode: no label or resource gives the GPU count" in err


def test_check_refuses_the_mixed_proposal_only_for_what_it_named_and_accepts_it_once_chosen(
    mixed: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = tmp_path / "Pulumi.home.yaml"
    stack.write_text(mixed[0], encoding="utf-8")
    assert main(["check", str(stack)]) == 1
    refused = capsys.readouterr().err
    assert "1 problem" in refused and "pools[2].driver: a GPU pool needs a pinned driver version" in refused
    document = yaml.safe_load(mixed[0])
    document["config"]["ollama-fleet:pools"][2]["driver"] = "570.124.06"
    stack.write_text(yaml.safe_dump(document), encoding="utf-8")
    assert main(["check", str(stack)]) == 0, capsys.readouterr().err


def test_a_fully_labelled_cluster_passes_check_as_written(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = _discover(capsys, "--nodes-json", str(NODES / "l4-gfd.json"), "--router-image", ROUTER_IMAGE)
    assert code == 0
    assert "accepts this file as written" in out and "(required)" not in out
    stack = tmp_path / "Pulumi.lab.yaml"
    stack.write_text(out, encoding="utf-8")
    assert main(["check", str(stack)]) == 0, capsys.readouterr().err


def test_without_a_router_image_the_proposal_says_it_must_be_chosen(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, err = _discover(capsys, "--nodes-json", str(NODES / "l4-gfd.json"))
    assert "#   - (required) router.image:" in out
    assert "to choose: (required) router.image:" in err


def test_gke_nodes_are_selected_by_their_accelerator_label_and_keep_their_taint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, out, _ = _discover(capsys, "--nodes-json", str(NODES / "gke-l4.json"))
    l4 = _pools(out)["l4"]
    assert l4["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    assert l4["taint"] == {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
    assert yaml.safe_load(out)["config"]["ollama-fleet:cluster"]["devicePlugin"] is False


def test_an_amd_die_shared_by_several_cards_is_left_to_the_user() -> None:
    document = json.loads((NODES / "mixed.json").read_text(encoding="utf-8"))
    radeon = copy.deepcopy(next(i for i in document["items"] if i["metadata"]["name"] == "rig-radeon"))
    del radeon["metadata"]["labels"]["amd.com/gpu.product-name"]
    proposal = propose(parse_nodes({"items": [radeon]}), source="test", context=None, router_image=ROUTER_IMAGE)
    pool = proposal.pools[0]
    assert pool.spec["nodeSelector"] == {"amd.com/gpu.device-id": "744c"}
    assert any("744c is AMD Radeon RX 7900 XTX or AMD Radeon RX 7900 XT" in fact for fact in pool.facts)
    assert any("(required) gpu: unknown GPU" in item for item in pool.todo)


def _fake_kubectl(folder: Path, script: str) -> None:
    kubectl = folder / "kubectl"
    kubectl.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    kubectl.chmod(kubectl.stat().st_mode | stat.S_IXUSR)


def test_kubectl_is_asked_for_the_nodes_of_the_given_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_kubectl(tmp_path, f'echo "$@" > {tmp_path}/args\ncat {NODES / "l4-gfd.json"}')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    code, out, _ = _discover(capsys, "--context", "home", "--router-image", ROUTER_IMAGE)
    assert code == 0
    assert (tmp_path / "args").read_text(encoding="utf-8").split() == [
        "get",
        "nodes",
        "-o",
        "json",
        "--context",
        "home",
    ]
    assert yaml.safe_load(out)["config"]["ollama-fleet:cluster"]["context"] == "home"


def test_a_missing_kubectl_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out, err = _discover(capsys)
    assert (code, out) == (1, "")
    assert "kubectl is not installed" in err and "--nodes-json" in err


def test_a_failing_kubectl_reports_its_own_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_kubectl(tmp_path, "echo 'error: context \"nope\" does not exist' >&2\nexit 1")
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _, err = _discover(capsys, "--context", "nope")
    assert code == 1 and 'failed: error: context "nope" does not exist' in err


def test_a_kubectl_that_hangs_is_given_up_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_kubectl(tmp_path, "exec sleep 30")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(DiscoveryError, match="did not answer within"):
        read_kubectl(None, timeout=0.5)


def test_a_file_that_is_not_a_node_list_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "nodes.json"
    bad.write_text('{"kind": "Pod"}', encoding="utf-8")
    code, _, err = _discover(capsys, "--nodes-json", str(bad))
    assert code == 1 and "is not a node list" in err


def test_the_documented_proposal_is_what_discover_prints_today(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    doc = (root / "docs" / "own-hardware.md").read_text(encoding="utf-8")
    shown = doc.split("### The proposal for a mixed rig", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    _, out, err = _discover(capsys, "--nodes-json", "tests/config/nodes/mixed.json", "--router-image", ROUTER_IMAGE)
    assert shown == out, "paste the new output of the command shown into docs/own-hardware.md"
    assert err.strip() in doc
