"""``make demo STACK=...``: any committed stack is demonstrated, each GPU pool answering through the router."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("stack", "pools"), [("dev", ["t4", "l4", "a100", "cpu"]), ("home", ["k80", "m40", "l4"])])
def test_the_demo_shows_every_pool_of_the_stack_answering(stack: str, pools: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scripts.demo", "--stack", stack],
        cwd=ROOT,
        env={**os.environ, "NO_PROXY": "127.0.0.1,localhost"},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Fleet of Pulumi.{stack}.yaml" in result.stdout
    for pool in pools:
        assert f"served by pool {pool!r}" in result.stdout
