"""The shell the pods run, executed here against fake ``/proc`` files, ``nvidia-smi`` and ``ollama``."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from infra.drivers.check import DRIVER_CHECK, cos_install_script
from infra.workloads.model_pull import PULL_SCRIPT, READY_SCRIPT

PROPRIETARY = (
    "NVRM version: NVIDIA UNIX x86_64 Kernel Module  570.124.06  Wed Feb 26 01:45:10 UTC 2025\nGCC version: gcc\n"
)
OPEN = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.95.05  Release Build  (dvs-builder@U16)  Thu\n"


def _executable(path: Path, body: str) -> None:
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _sh(script: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    full = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path), **env}
    return subprocess.run(["sh", "-c", script], env=full, capture_output=True, text=True, timeout=30, check=False)


def _check(tmp_path: Path, pin: str, version_text: str | None, **env: str) -> subprocess.CompletedProcess[str]:
    version = tmp_path / "version"
    if version_text is not None:
        version.write_text(version_text, encoding="utf-8")
    return _sh(DRIVER_CHECK, {"PINNED_DRIVER": pin, "DRIVER_VERSION_FILE": str(version), **env}, tmp_path)


@pytest.mark.parametrize(("text", "loaded"), [(PROPRIETARY, "570.124.06"), (OPEN, "580.95.05")])
def test_driver_check_reads_the_loaded_module(tmp_path: Path, text: str, loaded: str) -> None:
    assert _check(tmp_path, loaded, text).returncode == 0
    refused = _check(tmp_path, "470.256.02", text)
    assert refused.returncode == 1
    assert f"runs NVIDIA driver {loaded}, the pool is pinned to 470.256.02" in refused.stderr


def test_driver_check_without_a_driver(tmp_path: Path) -> None:
    missing = _check(tmp_path, "570.124.06", None)
    assert missing.returncode == 1 and "no NVIDIA driver is loaded" in missing.stderr
    before_install = _check(tmp_path, "570.124.06", None, ALLOW_NO_DRIVER="1")
    assert before_install.returncode == 0 and "will be installed" in before_install.stdout
    wrong = _check(tmp_path, "570.124.06", PROPRIETARY.replace("570.124.06", "535.161.07"), ALLOW_NO_DRIVER="1")
    assert wrong.returncode == 1, "a different driver is never a reason to skip"


def test_driver_check_prefers_nvidia_smi_and_falls_back_to_proc(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    _executable(tmp_path / "bin" / "nvidia-smi", 'echo "470.256.02"\necho "470.256.02"\n')
    assert _check(tmp_path, "470.256.02", None).returncode == 0
    _executable(tmp_path / "bin" / "nvidia-smi", 'echo "NVIDIA-SMI has failed"; exit 9\n')
    assert _check(tmp_path, "570.124.06", PROPRIETARY).returncode == 0


FAKE_COS_INSTALLER = r"""
case "$1" in
  list) printf '%s\n' $PUBLISHED ;;
  install) echo "$2" > "$INSTALLED" ;;
esac
"""


def _cos_install(tmp_path: Path, pin: str, published: str, loaded: str | None = None) -> tuple[int, str, str]:
    """Run the COS install step against a fake installer that publishes ``published`` for this image."""
    installer, version, installed = tmp_path / "cos-gpu-installer", tmp_path / "version", tmp_path / "installed"
    _executable(installer, FAKE_COS_INSTALLER)
    (tmp_path / "nvidia").mkdir()
    if loaded is not None:
        version.write_text(loaded, encoding="utf-8")
    script = (
        cos_install_script(pin)
        .replace("/cos-gpu-installer", str(installer))
        .replace("/proc/driver/nvidia/version", str(version))
        .replace("/root/home/kubernetes/bin/nvidia", str(tmp_path / "nvidia"))
    )
    env = {"PUBLISHED": published, "INSTALLED": str(installed)}
    done = _sh(script, env, tmp_path)
    chosen = installed.read_text(encoding="utf-8").strip() if installed.exists() else ""
    return done.returncode, chosen, done.stderr


def test_cos_install_step_installs_the_newest_published_build_of_the_branch(tmp_path: Path) -> None:
    published = "535.230.02 570.9.1 570.133.20 570.124.06 580.95.05"
    code, chosen, _ = _cos_install(tmp_path, "R570", published)
    assert (code, chosen) == (0, "--version=570.133.20")


def test_cos_install_step_fails_naming_the_builds_when_the_branch_is_not_published(tmp_path: Path) -> None:
    code, chosen, stderr = _cos_install(tmp_path, "R550", "535.230.02 570.133.20")
    assert code != 0 and chosen == ""
    assert "no R550 build is published" in stderr and "570.133.20" in stderr


def test_cos_install_step_keeps_a_loaded_build_of_the_branch(tmp_path: Path) -> None:
    code, chosen, _ = _cos_install(tmp_path, "R570", "570.133.20", loaded=PROPRIETARY)
    assert (code, chosen) == (0, "")


def test_a_branch_pin_accepts_any_build_of_the_branch_and_nothing_else(tmp_path: Path) -> None:
    assert _check(tmp_path, "R570", PROPRIETARY).returncode == 0
    refused = _check(tmp_path, "R570", OPEN)
    assert refused.returncode == 1 and "580.95.05, the pool is pinned to R570" in refused.stderr


FAKE_OLLAMA = r"""
state="$FAKE_STATE"
key() { echo "$1" | tr '/:' '__'; }
case "$1" in
  serve) echo serve >> "$state/calls"; exec sleep 60 ;;
  list) [ -f "$state/down" ] && exit 1; exit 0 ;;
  show) [ -f "$state/down" ] && exit 1; [ -f "$state/models/$(key "$2")" ] ;;
  pull)
    name="$(key "$2")"
    left="$(cat "$state/fail-$name" 2>/dev/null || echo 0)"
    if [ "$left" -gt 0 ]; then echo $((left - 1)) > "$state/fail-$name"; echo "pull failed" >&2; exit 1; fi
    echo "pulling manifest"; touch "$state/models/$name"; echo "$2" >> "$state/pulls" ;;
esac
"""


@pytest.fixture
def ollama_env(tmp_path: Path) -> dict[str, str]:
    state = tmp_path / "state"
    (state / "models").mkdir(parents=True)
    (tmp_path / "bin").mkdir()
    _executable(tmp_path / "bin" / "ollama", FAKE_OLLAMA)
    return {"FAKE_STATE": str(state), "PULL_BACKOFF": "0", "PULL_SERVER_WAIT": "5"}


def test_pull_skips_present_models_and_retries_the_rest(tmp_path: Path, ollama_env: dict[str, str]) -> None:
    state = Path(ollama_env["FAKE_STATE"])
    (state / "models" / "llama3.2_3b").touch()
    (state / "fail-qwen2.5_7b").write_text("2", encoding="utf-8")
    env = {**ollama_env, "FLEET_MODELS": "llama3.2:3b qwen2.5:7b hf.co/org/m:q4"}
    started = time.monotonic()
    first = _sh(PULL_SCRIPT, env, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert time.monotonic() - started < 20, "the private server must be stopped, not waited for"
    assert "[1/3] llama3.2:3b is already on the volume, skipping" in first.stdout
    assert first.stdout.count("pull of qwen2.5:7b failed") == 2
    assert "[3/3] hf.co/org/m:q4 pulled" in first.stdout and "all 3 models are on the volume" in first.stdout
    assert (state / "pulls").read_text(encoding="utf-8").split() == ["qwen2.5:7b", "hf.co/org/m:q4"]
    again = _sh(PULL_SCRIPT, env, tmp_path)
    assert again.returncode == 0 and again.stdout.count("already on the volume") == 3
    assert (state / "pulls").read_text(encoding="utf-8").split() == ["qwen2.5:7b", "hf.co/org/m:q4"]


def test_pull_gives_up_after_its_attempts(tmp_path: Path, ollama_env: dict[str, str]) -> None:
    state = Path(ollama_env["FAKE_STATE"])
    (state / "fail-gemma3_12b").write_text("9", encoding="utf-8")
    failed = _sh(PULL_SCRIPT, {**ollama_env, "FLEET_MODELS": "gemma3:12b", "PULL_ATTEMPTS": "3"}, tmp_path)
    assert failed.returncode == 1
    assert "giving up on gemma3:12b after 3 attempts" in failed.stdout


def test_readiness_needs_the_server_and_every_model(tmp_path: Path, ollama_env: dict[str, str]) -> None:
    state = Path(ollama_env["FAKE_STATE"])
    env = {**ollama_env, "FLEET_MODELS": "a:1 b:2"}
    (state / "models" / "a_1").touch()
    missing = _sh(READY_SCRIPT, env, tmp_path)
    assert missing.returncode == 1 and "b:2 is missing" in missing.stdout
    (state / "models" / "b_2").touch()
    assert _sh(READY_SCRIPT, env, tmp_path).returncode == 0
    (state / "down").touch()
    down = _sh(READY_SCRIPT, {**env, "FLEET_MODELS": ""}, tmp_path)
    assert down.returncode == 1 and "server does not answer" in down.stdout
