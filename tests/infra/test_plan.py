"""``make plan``: real manifests that Kubernetes' strict schema accepts, no secrets, clear refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from config.derive import derive_model_map
from config.loading import load_stack_file
from infra.gcp.gke_versions import manifest_minor
from infra.k8s import custom_resources
from infra.offline import plan
from infra.offline.mocks import MOCK_GENERATED_KEY, REDACTED
from tests.infra.fleet import ROOT, file_value

API_KEY = "sk-live-5f3a9c0e7d1b42a8b6c4e2f0a9d8c7b6"
ADMIN_KEY = "adm-live-0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"


def _floats(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [f for item in value.values() for f in _floats(item)]
    if isinstance(value, list):
        return [f for item in value for f in _floats(item)]
    return [value] if isinstance(value, float) else []


@pytest.mark.parametrize("stack", ["dev", "home", "hybrid"])
def test_plan_writes_valid_manifests(stack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert plan.main(["--stack", stack, "--out", str(tmp_path)]) == 0
    spec = load_stack_file(ROOT / f"Pulumi.{stack}.yaml")
    documents = list(yaml.safe_load_all((tmp_path / "kubernetes.yaml").read_text(encoding="utf-8")))
    kinds = {d["kind"] for d in documents}
    assert {"Namespace", "ConfigMap", "Service", "StatefulSet", "DaemonSet", "Deployment", "Secret"} <= kinds
    for document in documents:
        custom = custom_resources.problems(document)
        if custom is None:
            kubernetes_validate.validate(document, f"{manifest_minor(spec)}.0", strict=True)
        else:
            assert custom == [], document
        assert _floats(document) == [], document["metadata"]["name"]
    assert (tmp_path / "model-map.json").read_text(encoding="utf-8") == derive_model_map(spec).to_json()
    records = json.loads((tmp_path / "resources.json").read_text(encoding="utf-8"))
    types = {r["type"] for r in records}
    assert {"ollama-fleet:infra:Cluster", "ollama-fleet:infra:Router", "ollama-fleet:infra:OllamaBackend"} <= types
    assert all({"type", "name", "inputs"} <= r.keys() for r in records)
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    for pool in spec.pools:
        assert f"| {pool.name} |" in summary and pool.ollama.image in summary
        assert all(model in summary for model in pool.ollama.models)
        assert pool.driver is None or pool.driver in summary


def test_container_ports_and_replicas_are_integers(tmp_path: Path) -> None:
    written = plan.write_plan("dev", tmp_path, root=ROOT)
    statefulset = next(d for d in written.documents if d["kind"] == "StatefulSet")
    assert type(statefulset["spec"]["replicas"]) is int
    port = statefulset["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    assert type(port) is int


def _all_text(directory: Path) -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(directory.rglob("*")) if path.is_file())


@pytest.mark.parametrize("stack", ["dev", "home", "hybrid"])
def test_secret_config_never_reaches_the_plan(stack: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """Keys injected as secret config under the mocks appear in no file of the plan and in no output line."""
    router = file_value(stack, "router") | {"apiKeys": f"{API_KEY},{API_KEY}-2", "adminKeys": ADMIN_KEY}
    written = plan.write_plan(
        stack,
        tmp_path,
        root=ROOT,
        extra_config={"ollama-fleet:router": json.dumps(router)},
        extra_secret_keys=["ollama-fleet:router"],
    )
    assert written.problems == []
    text = _all_text(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "kubernetes.yaml",
        "model-map.json",
        "resources.json",
        "summary.md",
    ]
    printed = capfd.readouterr()
    for secret in (API_KEY, ADMIN_KEY, "mock-access-token"):
        assert secret not in text, secret
        assert secret not in printed.out + printed.err, secret
    assert REDACTED in text
    secret_doc = next(d for d in written.documents if d["kind"] == "Secret")
    assert secret_doc["stringData"] == {"admin-keys": REDACTED, "api-keys": REDACTED}
    config_map = next(d for d in written.documents if d["kind"] == "ConfigMap")
    assert list(config_map["data"]) == ["model-map.json"], "the ConfigMap holds the model map and nothing else"
    env = [
        e
        for d in written.documents
        if d["kind"] == "Deployment"
        for c in d["spec"]["template"]["spec"]["containers"]
        for e in c["env"]
    ]
    assert {e["name"] for e in env if "valueFrom" in e} == {"FLEET_API_KEYS", "FLEET_ADMIN_KEYS"}
    assert all("value" not in e for e in env if e["name"].endswith("_KEYS")), "keys come from the Secret only"


@pytest.mark.parametrize("stack", ["dev", "home", "hybrid"])
def test_a_generated_key_never_reaches_the_plan(stack: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    written = plan.write_plan(stack, tmp_path, root=ROOT)
    assert written.run.outputs["routerApiKey"] == MOCK_GENERATED_KEY
    assert "routerApiKey" in written.run.secret_outputs
    printed = capfd.readouterr()
    assert MOCK_GENERATED_KEY not in _all_text(tmp_path) + printed.out + printed.err


BAD_STACK = """
config:
  gcp:project: p
  ollama-fleet:cluster: {type: gke, location: us-central1-a}
  ollama-fleet:pools:
    - name: t4
      gpu: nvidia-tesla-t4
      gpusPerNode: 0
      zones: [us-central1-a]
      driver: "570.124.06"
    - name: BadName
      zones: [us-central1-a]
  ollama-fleet:routr: {}
"""


def test_a_bad_stack_fails_with_every_problem_and_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.bad.yaml").write_text(BAD_STACK, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "infra.offline.plan", "--stack", "bad", "--out", str(tmp_path / "out")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for path in ("pools[0].gpusPerNode", "pools[1].name", "ollama-fleet:routr"):
        assert path in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_an_invalid_manifest_fails_the_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"replicas": 1, "nodeSelecter": {}},
    }
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(plan, "manifests", lambda resources: [broken])
    assert plan.main(["--stack", "home", "--out", str(tmp_path)]) == 1
    assert "Deployment /x" in capsys.readouterr().err


def test_validate_uses_the_stack_minor() -> None:
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "x"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "x"}, "maxReplicas": 2},
    }
    assert plan.validate([hpa], "1.33") == []
    assert "kubernetes-validate does not support" in plan.validate([hpa], "1.99")[0]
