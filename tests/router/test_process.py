"""``python -m router`` as a process: start-up refusals, JSON logs, and the import boundary."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "router", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_missing_model_map_setting_is_refused() -> None:
    result = _run(env={"FLEET_MODEL_MAP": ""})
    assert result.returncode == 2
    assert "--model-map FILE or set FLEET_MODEL_MAP" in result.stderr


def test_a_backend_the_router_cannot_serve_is_refused_at_start(tmp_path: Path) -> None:
    bad = tmp_path / "map.yaml"
    bad.write_text("backends: [{name: t4, url: 'http://t4:11434', ca_file: /etc/ca.pem}]\n")
    result = _run("--model-map", str(bad))
    assert result.returncode == 2
    assert "backends[0].ca_file" in result.stderr and "only applies to an https:// URL" in result.stderr


def test_an_invalid_model_map_lists_its_problems(tmp_path: Path) -> None:
    bad = tmp_path / "map.yaml"
    bad.write_text("backends: [{name: t4, url: 'http://t4:11434'}]\nroutes: [{model: m, backends: [l4]}]\n")
    result = _run("--model-map", str(bad))
    assert result.returncode == 2
    assert "routes[0].backends[0]" in result.stderr and "unknown backend 'l4'" in result.stderr


def test_the_router_serves_and_logs_json(tmp_path: Path) -> None:
    document = tmp_path / "map.json"
    document.write_text(json.dumps({"backends": [{"name": "t4", "url": "http://127.0.0.1:9"}]}))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "router", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env={
            **os.environ,
            "FLEET_MODEL_MAP": str(document),
            "FLEET_API_KEYS": "sekrit-key",
            "FLEET_DRAIN_NOTICE_SECONDS": "0",
        },
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(
                    f"http://127.0.0.1:{port}/api/tags", headers={"authorization": "Bearer sekrit-key"}
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline and process.poll() is None, "the router did not start"
                time.sleep(0.1)
        assert response.status_code == 200
        request_id = response.headers["x-request-id"]
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, "SIGTERM is a graceful stop"
    records = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert records, stderr
    access = [r for r in records if r.get("message") == "request" and r.get("request_id") == request_id]
    assert access and access[0]["path"] == "/api/tags" and access[0]["status"] == 200
    assert "sekrit-key" not in stderr, "keys are never logged"


def test_the_router_imports_neither_pulumi_nor_infra() -> None:
    code = (
        "import sys, router.__main__, router.runtime.app, router.runtime.server\n"
        "roots = {m.split('.')[0] for m in sys.modules}\n"
        "bad = sorted(roots & {'pulumi', 'infra', 'pulumi_gcp', 'pulumi_kubernetes', 'httpx'})\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
