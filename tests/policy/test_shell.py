"""shellcheck on the repository's scripts, hadolint on the router's Dockerfile, and the CI preflight."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.policy.conftest import ROOT, output, run, venv_tool

DOCKERFILE = ROOT / "router" / "Dockerfile"
PREFLIGHT = ROOT / "tools" / "ci-preflight.sh"
SCRIPTS = [ROOT / ".ci" / "run", *sorted((ROOT / "tools").glob("*.sh"))]

GOOD_SETTINGS = {
    "GCP_WORKLOAD_IDENTITY_PROVIDER": "projects/123456789/locations/global/workloadIdentityPools/gh/providers/fleet",
    "GCP_SERVICE_ACCOUNT": "fleet-deployer@example-project.iam.gserviceaccount.com",
    "PULUMI_BACKEND_URL": "gs://example-pulumi-state",
    "PULUMI_SECRETS_PROVIDER": "gcpkms://projects/example-project/locations/global/keyRings/pulumi/cryptoKeys/fleet",
}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_shell_scripts_pass_shellcheck(script: Path) -> None:
    result = run([venv_tool("shellcheck"), "--norc", "--external-sources", script])
    assert result.returncode == 0, output(result)


def test_shellcheck_reports_a_careless_script(tmp_path: Path) -> None:
    script = tmp_path / "careless.sh"
    script.write_text("#!/usr/bin/env bash\ncd $1\nfor f in $(ls *.yaml); do echo $f; done\n")
    result = run([venv_tool("shellcheck"), "--norc", "--format=gcc", script])
    assert result.returncode == 1, output(result)
    assert {"SC2086", "SC2045", "SC2164"} <= set(re.findall(r"\[(SC\d+)\]", result.stdout)), output(result)


def test_the_router_dockerfile_passes_hadolint() -> None:
    if not DOCKERFILE.is_file():
        pytest.fail("router/Dockerfile does not exist: the router image is built from it (hadolint checks it here)")
    result = run([venv_tool("hadolint"), "--no-color", DOCKERFILE.relative_to(ROOT)])
    assert result.returncode == 0, output(result)


def test_hadolint_reports_a_careless_dockerfile(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\nADD . /app\n")
    result = run([venv_tool("hadolint"), "--no-color", dockerfile], cwd=tmp_path)
    assert result.returncode == 1, output(result)
    assert {"DL3007", "DL3008", "DL3020"} <= set(re.findall(r"\b(DL\d+)\b", result.stdout)), output(result)


@pytest.fixture
def preflight_repo(tmp_path: Path) -> Path:
    """A copy of what tools/ci-preflight.sh reads: itself, requirements.txt and a stack file."""
    (tmp_path / "tools").mkdir()
    shutil.copy(PREFLIGHT, tmp_path / "tools" / PREFLIGHT.name)
    shutil.copy(ROOT / "requirements.txt", tmp_path / "requirements.txt")
    (tmp_path / "Pulumi.dev.yaml").write_text(
        f"secretsprovider: {GOOD_SETTINGS['PULUMI_SECRETS_PROVIDER']}\nencryptedkey: abc\n"
        "config:\n  gcp:project: example-project\n  gcp:region: europe-west4\n"
    )
    return tmp_path


def preflight(repo: Path, stack: str, settings: dict[str, str], github_output: Path | None = None) -> tuple[int, str]:
    env = {"PATH": os.environ["PATH"], **settings}
    if github_output is not None:
        env["GITHUB_OUTPUT"] = str(github_output)
    result = run(["bash", repo / "tools" / PREFLIGHT.name, stack], cwd=repo, env=env)
    return result.returncode, result.stdout + result.stderr


def test_preflight_passes_good_settings_and_hands_on_the_cli_version_and_region(preflight_repo: Path) -> None:
    github_output = preflight_repo / "github-output"
    status, text = preflight(preflight_repo, "dev", GOOD_SETTINGS, github_output)
    assert status == 0, text
    pin = re.search(r"^pulumi==(\S+)", (ROOT / "requirements.txt").read_text(), re.M)
    assert pin, "requirements.txt pins no pulumi version"
    assert github_output.read_text().splitlines() == [f"pulumi-version={pin[1]}", "gcp-region=europe-west4"]


def test_preflight_names_every_missing_setting(preflight_repo: Path) -> None:
    status, text = preflight(preflight_repo, "dev", {})
    assert status == 1, text
    for name in ("GCP_WORKLOAD_IDENTITY_PROVIDER", "GCP_SERVICE_ACCOUNT", "PULUMI_BACKEND_URL"):
        assert f"{name}: repository variable not set" in text, text


def test_preflight_accepts_pulumi_cloud_instead_of_a_bucket(preflight_repo: Path) -> None:
    settings = {**GOOD_SETTINGS, "PULUMI_ACCESS_TOKEN": "pul-0000"}
    del settings["PULUMI_BACKEND_URL"], settings["PULUMI_SECRETS_PROVIDER"]
    status, text = preflight(preflight_repo, "dev", settings)
    assert status == 0, text
    assert "backend Pulumi Cloud" in text


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("GCP_WORKLOAD_IDENTITY_PROVIDER", "github-pool", "is not a provider's full name"),
        ("GCP_SERVICE_ACCOUNT", "deployer@example.com", "is not a service account email"),
        ("PULUMI_BACKEND_URL", "my-bucket", "is not a backend URL"),
        ("PULUMI_SECRETS_PROVIDER", "passphrase", "is not a Cloud KMS key URL"),
    ],
)
def test_preflight_refuses_a_malformed_setting(preflight_repo: Path, name: str, value: str, says: str) -> None:
    status, text = preflight(preflight_repo, "dev", {**GOOD_SETTINGS, name: value})
    assert status == 1, text
    assert f"{name}: '{value}' {says}" in text, text


def test_preflight_wants_the_kms_key_recorded_in_the_stack_file(preflight_repo: Path) -> None:
    (preflight_repo / "Pulumi.dev.yaml").write_text("config:\n  gcp:region: us-central1\n")
    status, text = preflight(preflight_repo, "dev", GOOD_SETTINGS)
    assert status == 1, text
    assert "pulumi stack init dev --secrets-provider" in text, text

    other = GOOD_SETTINGS["PULUMI_SECRETS_PROVIDER"].replace("cryptoKeys/fleet", "cryptoKeys/other")
    (preflight_repo / "Pulumi.dev.yaml").write_text(f"secretsprovider: {other}\nconfig: {{}}\n")
    status, text = preflight(preflight_repo, "dev", GOOD_SETTINGS)
    assert status == 1, text
    assert "make them agree" in text, text


@pytest.mark.parametrize(
    ("stack", "says"), [("prod", "Pulumi.prod.yaml is not in the repository"), ("a;b", "not a stack name")]
)
def test_preflight_refuses_a_stack_that_is_not_committed(preflight_repo: Path, stack: str, says: str) -> None:
    status, text = preflight(preflight_repo, stack, GOOD_SETTINGS)
    assert status == 1, text
    assert says in text, text
