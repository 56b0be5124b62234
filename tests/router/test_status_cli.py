"""``python -m router status``: a running router's state as tables, and a clear exit when it cannot be read."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from router.runtime.status_cli import render
from tests.router.conftest import Fleet, fleet_router

ROOT = Path(__file__).resolve().parents[2]


def _status(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "router", "status", *args],
        cwd=ROOT,
        env={**os.environ, "NO_PROXY": "127.0.0.1,localhost"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _row(output: str, first: str) -> list[str]:
    return next(line.split() for line in output.splitlines() if line.split()[:1] == [first])


def test_status_shows_each_backend_and_the_model_map(fleet: Fleet) -> None:
    fleet.l4.stop()
    with fleet_router(fleet, api_keys=("k1",)) as router:
        headers = {"Authorization": "Bearer k1"}
        answer = httpx.post(f"{router.url}/api/chat", json={"model": "mistral:7b"}, headers=headers, timeout=10)
        assert answer.status_code >= 500, "l4 alone serves mistral:7b, and it is down"
        result = _status(router.url, "--key", "k1")
        version = router.state.table.version
    assert result.returncode == 0, result.stderr
    assert _row(result.stdout, "t4")[:3] == ["t4", "unknown", "closed"]
    assert _row(result.stdout, "l4")[:2] == ["l4", "down"]
    assert "Last errors\n  l4: " in result.stdout, "why l4 is down is shown"
    assert f"version: {version}" in result.stdout
    assert "draining: no" in result.stdout, "sections the table does not know are still shown"


def test_unknown_sections_and_fields_are_printed_as_they_come() -> None:
    status = {
        "backends": [{"name": "t4", "health": "up", "circuit": "closed", "in_flight": 1, "resident": ["m"]}],
        "model_map_version": "abc",
        "scale": {"t4": "awake"},
    }
    text = render(status, "http://127.0.0.1:11434")
    assert 't4.resident: ["m"]' in text
    assert 'scale: {"t4": "awake"}' in text
    assert "version: abc" in text


def test_a_refused_key_is_said_plainly(fleet: Fleet) -> None:
    with fleet_router(fleet, api_keys=("k1",)) as router:
        without = _status(router.url)
        wrong = _status(router.url.removeprefix("http://"), "--key", "nope")
    assert without.returncode == 1 and "refused the request (401): pass --key KEY" in without.stderr
    assert wrong.returncode == 1 and "this key is not one of its FLEET_API_KEYS" in wrong.stderr
    assert without.stdout == wrong.stdout == ""


def test_no_router_answering_is_a_clear_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _status(f"http://127.0.0.1:{port}")
    assert result.returncode == 1
    assert f"no answer from http://127.0.0.1:{port}" in result.stderr and "Is the router running" in result.stderr


def test_status_loads_neither_the_server_nor_the_application() -> None:
    code = (
        "import sys\n"
        "from router.__main__ import main\n"
        "main(['status', 'http://127.0.0.1:9'])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'uvicorn', 'starlette', 'uvloop', 'pydantic'})\n"
        "sys.exit(f'status imported {heavy}' if heavy else 0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
