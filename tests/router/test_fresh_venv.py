"""The router's image dependencies are enough: a fresh venv from router/requirements.txt serves requests.

Slow (it installs packages from the registry, ~20 s or more), so it is marked ``fresh_venv``; it copies
only config/ and router/, as the image does (the simulated Ollama, ollama_sim/, is in neither),
and runs the router from there.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _fresh_venv(tmp_path: Path) -> str:
    """A new venv holding router/requirements.txt and nothing else; returns its python."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    requirements = str(ROOT / "router" / "requirements.txt")
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", requirements],
        check=True,
        timeout=800,
    )
    return python


@pytest.mark.fresh_venv
@pytest.mark.timeout(900)
def test_router_requirements_alone_run_the_router_without_pulumi(tmp_path: Path) -> None:
    python = _fresh_venv(tmp_path)
    app = tmp_path / "app"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "config", app / "config", ignore=ignore)
    shutil.copytree(ROOT / "router", app / "router", ignore=ignore)
    no_pulumi = subprocess.run(
        [python, "-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec('pulumi') is not None)"],
        check=False,
        timeout=60,
    )
    assert no_pulumi.returncode == 0, "pulumi must not be installed by router/requirements.txt"
    document = tmp_path / "map.json"
    document.write_text(json.dumps({"backends": [{"name": "t4", "url": "http://127.0.0.1:9"}]}))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [python, "-m", "router", "--model-map", str(document), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(command, cwd=app, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and process.poll() is None, "the router did not start"
                time.sleep(0.2)
        assert (response.status_code, response.json()) == (200, {"status": "ok"})
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert "Traceback" not in stderr, stderr
