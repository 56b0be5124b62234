"""What the pull-request and deploy workflows promise: pinned actions, least privilege, the right commands."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.policy.conftest import ROOT, output, run

WORKFLOWS = ROOT / ".github" / "workflows"
PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w./-]+)@(?P<ref>\S+)(?:\s+#\s*(?P<tag>\S+))?\s*$")
SHA = re.compile(r"^[0-9a-f]{40}$")
VERSION = re.compile(r"^v\d+\.\d+\.\d+$")


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(document, dict)
    # YAML 1.1 reads the key `on` as True
    document["on"] = document.pop(True, document.get("on"))
    return document


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    found = job["steps"]
    assert isinstance(found, list)
    return found


def step_using(job: dict[str, Any], action: str) -> dict[str, Any]:
    matches = [s for s in steps(job) if str(s.get("uses", "")).startswith(f"{action}@")]
    assert len(matches) == 1, f"expected one step using {action}, found {len(matches)}"
    return matches[0]


def runs(job: dict[str, Any]) -> str:
    """Every `run:` script of a job, one after the other."""
    return "\n".join(str(s["run"]) for s in steps(job) if "run" in s)


@pytest.mark.parametrize("name", ["pr.yml", "deploy.yml"])
def test_every_action_is_pinned_to_a_commit_with_its_version(name: str) -> None:
    lines = [line for line in (WORKFLOWS / name).read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    assert lines, f"{name} uses no action"
    for line in lines:
        match = PINNED.match(line)
        assert match, f"{name}: cannot read {line.strip()!r}"
        assert SHA.match(match["ref"]), f"{name}: {match['action']} is not pinned to a full commit SHA"
        assert match["tag"] and VERSION.match(match["tag"]), f"{name}: {match['action']} lacks its '# vX.Y.Z'"


def test_the_same_action_is_pinned_to_the_same_commit_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for path in sorted(WORKFLOWS.glob("*.y*ml")):
        for line in path.read_text().splitlines():
            if match := PINNED.match(line):
                pins.setdefault(match["action"], set()).add(match["ref"])
    assert pins, "no pinned action found"
    assert {action: refs for action, refs in pins.items() if len(refs) > 1} == {}


def test_pull_requests_run_make_test_then_plan_every_stack_and_keep_the_plans() -> None:
    workflow = load("pr.yml")
    assert set(workflow["on"]) == {"pull_request"}
    assert workflow["permissions"] == {"contents": "read"}
    assert "github.event.pull_request.number" in workflow["concurrency"]["group"]
    assert workflow["concurrency"]["cancel-in-progress"] is True

    test = workflow["jobs"]["test"]
    assert test["runs-on"] == "ubuntu-latest"
    assert test["permissions"] == {"contents": "read"}
    python = step_using(test, "actions/setup-python")["with"]
    assert (python["python-version"], python["cache"]) == ("3.11", "pip")
    assert "requirements.txt" in python["cache-dependency-path"]
    assert "requirements-checkov.txt" in python["cache-dependency-path"]
    node = step_using(test, "actions/setup-node")["with"]
    assert (str(node["node-version"]), node["cache"]) == ("20", "npm")
    scripts = [str(s.get("run", "")) for s in steps(test)]
    assert "make test" in scripts
    plan = next(i for i, script in enumerate(scripts) if "make plan" in script)
    assert plan > scripts.index("make test")
    assert "Pulumi.*.yaml" in scripts[plan]
    upload = step_using(test, "actions/upload-artifact")["with"]
    assert upload["path"].rstrip("/") == "build/plan"
    assert upload["if-no-files-found"] == "error"
    # the test job needs no apt packages, no secrets and no cloud identity
    assert "apt-get" not in runs(test)
    assert "secrets." not in yaml.safe_dump(test)


def test_the_preview_runs_only_for_this_repositorys_pull_requests_with_least_privilege() -> None:
    preview = load("pr.yml")["jobs"]["preview"]
    assert preview["needs"] == "test"
    condition = re.sub(r"\s+", " ", preview["if"])
    assert "github.event.pull_request.head.repo.full_name == github.repository" in condition
    assert preview["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    assert preview["env"]["STACK"] == "dev"

    auth = step_using(preview, "google-github-actions/auth")["with"]
    assert auth == {
        "workload_identity_provider": "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}",
        "service_account": "${{ vars.GCP_SERVICE_ACCOUNT }}",
    }
    gcloud = step_using(preview, "google-github-actions/setup-gcloud")["with"]
    assert "gke-gcloud-auth-plugin" in gcloud["install_components"]
    step_using(preview, "docker/setup-buildx-action")

    pulumi = step_using(preview, "pulumi/actions")
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["stack-name"] == "${{ env.STACK }}"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert pulumi["with"]["secrets-provider"] == "${{ vars.PULUMI_SECRETS_PROVIDER }}"
    assert pulumi["with"]["pulumi-version"] == "${{ steps.settings.outputs.pulumi-version }}"
    assert pulumi["env"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}

    order = [str(s.get("uses", s.get("run", ""))) for s in steps(preview)]
    position = {name: next(i for i, s in enumerate(order) if name in s) for name in ("ci-preflight", "make venv")}
    position["auth"] = next(i for i, s in enumerate(order) if s.startswith("google-github-actions/auth@"))
    position["pulumi"] = next(i for i, s in enumerate(order) if s.startswith("pulumi/actions@"))
    assert position["ci-preflight"] < position["make venv"] < position["auth"] < position["pulumi"]


def test_deploys_go_through_a_github_environment_per_stack_one_at_a_time() -> None:
    workflow = load("deploy.yml")
    assert workflow["on"]["push"] == {"branches": ["main"]}
    stack_input = workflow["on"]["workflow_dispatch"]["inputs"]["stack"]
    assert (stack_input["default"], stack_input["required"]) == ("dev", True)
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"] == {"group": "deploy-${{ inputs.stack || 'dev' }}", "cancel-in-progress": False}

    up = workflow["jobs"]["up"]
    assert up["environment"] == "${{ inputs.stack || 'dev' }}"
    assert up["env"]["STACK"] == "${{ inputs.stack || 'dev' }}"
    assert up["permissions"] == {"contents": "read", "id-token": "write"}
    assert "make check-config" in runs(up)
    assert "make plan" in runs(up)
    step_using(up, "docker/setup-buildx-action")
    gcloud = step_using(up, "google-github-actions/setup-gcloud")["with"]
    assert "gke-gcloud-auth-plugin" in gcloud["install_components"]
    pulumi = step_using(up, "pulumi/actions")
    assert pulumi["with"]["command"] == "up"
    assert pulumi["with"]["stack-name"] == "${{ env.STACK }}"
    assert pulumi["with"]["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert pulumi["with"]["secrets-provider"] == "${{ vars.PULUMI_SECRETS_PROVIDER }}"


@pytest.mark.parametrize("name", ["pr.yml", "deploy.yml"])
def test_no_script_expands_an_expression_inline(name: str) -> None:
    """`${{ }}` inside `run:` is pasted into the script before bash reads it; values go through env."""
    workflow = load(name)
    for job_name, job in workflow["jobs"].items():
        assert "${{" not in runs(job), f"{name}: job {job_name} expands an expression inside a script"


def test_pull_request_jobs_check_out_without_keeping_the_token() -> None:
    for path in sorted(WORKFLOWS.glob("*.y*ml")):
        workflow = load(path.name)
        for job in workflow["jobs"].values():
            checkout = step_using(job, "actions/checkout")
            assert checkout.get("with", {}).get("persist-credentials") is False, path.name


def test_the_plan_loop_covers_every_committed_stack(tmp_path: Path) -> None:
    """The workflow's loop, run with `make` replaced by echo, names exactly the committed stacks."""
    loop = next(str(s["run"]) for s in steps(load("pr.yml")["jobs"]["test"]) if "make plan" in str(s.get("run")))
    for stack_file in ROOT.glob("Pulumi.*.yaml"):
        (tmp_path / stack_file.name).write_text("")
    (tmp_path / "Pulumi.yaml").write_text("")
    script = tmp_path / "loop.sh"
    script.write_text('make() { echo "$@"; }\nset -euo pipefail\n' + loop)
    result = run(["bash", script], cwd=tmp_path)
    assert result.returncode == 0, output(result)
    expected = sorted(f"plan STACK={p.name[len('Pulumi.') : -len('.yaml')]}" for p in ROOT.glob("Pulumi.*.yaml"))
    assert sorted(result.stdout.splitlines()) == expected
