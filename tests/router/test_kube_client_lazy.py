"""The Kubernetes client is the router's heaviest dependency and only pools that scale to zero need it: a
router whose map has none must not load it (start-up time and memory of every other deployment)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAIN = {"name": "a", "url": "http://127.0.0.1:9"}
SCALE = {"namespace": "ns", "statefulset": "ollama-a", "replicas": 1, "idle_after_s": 60, "wake_timeout_s": 60}


def _loads_lightkube(backend: dict[str, object], tmp_path: Path) -> bool:
    """Serve a router for a one-backend map in a fresh interpreter; whether lightkube got imported."""
    document = {"backends": [backend], "routes": [{"model": "m", "backends": ["a"]}]}
    code = (
        "import json, sys\n"
        "from tests.router.harness import running_router\n"
        f"with running_router(json.loads({json.dumps(json.dumps(document))})):\n"
        "    pass\n"
        "print('lightkube' in sys.modules)\n"
    )
    env = {"KUBECONFIG": str(tmp_path / "absent"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1] == "True"


@pytest.mark.parametrize(("backend", "loaded"), [(PLAIN, False), ({**PLAIN, "scale": SCALE}, True)])
def test_lightkube_is_loaded_only_for_a_map_with_a_pool_that_scales_to_zero(
    backend: dict[str, object], loaded: bool, tmp_path: Path
) -> None:
    assert _loads_lightkube(backend, tmp_path) is loaded
