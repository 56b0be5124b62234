"""``make preview`` and ``make up`` without the Pulumi CLI: a way forward instead of ``command not found``."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAMP = ".venv/.installed"


def _make(target: str, path_dir: Path) -> subprocess.CompletedProcess[str]:
    make = shutil.which("make")
    assert make is not None, "make runs these targets"
    return subprocess.run(
        # -o: never rebuild the virtualenv from here, whatever the file times say
        [make, "--no-print-directory", "-o", STAMP, target, "STACK=dev"],
        cwd=ROOT,
        env={"PATH": str(path_dir), "HOME": os.environ.get("HOME", "/tmp")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("target", ["preview", "up"])
def test_without_pulumi_the_target_says_how_to_install_it_and_points_to_plan(target: str, tmp_path: Path) -> None:
    result = _make(target, tmp_path)
    assert result.returncode != 0
    assert f"make {target} needs the Pulumi CLI" in result.stderr
    assert "curl -fsSL https://get.pulumi.com | sh" in result.stderr
    assert "make plan STACK=dev" in result.stderr
    assert "command not found" not in result.stderr


def test_with_pulumi_the_target_runs_it(tmp_path: Path) -> None:
    fake = tmp_path / "pulumi"
    fake.write_text(f'#!/bin/sh\necho "pulumi $*" > {tmp_path / "called"}\n', encoding="utf-8")
    fake.chmod(0o755)
    result = _make("preview", tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "called").read_text(encoding="utf-8").strip() == "pulumi preview --stack dev"
