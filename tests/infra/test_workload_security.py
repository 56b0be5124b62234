"""Every container of every workload, as a table: how it runs, and where.

Each row names a workload's container and the profile it must have; a container the table does not
name fails the test, so a new one cannot slip in unreviewed. Effective values merge the pod's
securityContext into the container's, as the kubelet does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from config.stack import StackConfig
from infra.offline.mocks import Run
from tests.infra.fleet import containers, inputs, pod_spec

WORKLOADS = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet")
FLEET, DRIVERS, KUBE_SYSTEM = "ollama-fleet", "ollama-fleet-drivers", "kube-system"
APP_USER, NOBODY = 10001, 65534


@dataclass(frozen=True)
class Profile:
    """What a container may do: privilege, root, filesystem, the pod's host namespaces."""

    privileged: bool = False
    user: int | None = APP_USER
    """The effective uid; None: root allowed (runAsNonRoot unset)."""
    read_only_root: bool = True
    host_network: bool = False
    host_pid: bool = False


RESTRICTED = Profile()
RESTRICTED_NOBODY = Profile(user=NOBODY)
INSTALLER_COS = Profile(privileged=True, user=None, read_only_root=False, host_network=True, host_pid=True)
INSTALLER_UBUNTU = Profile(privileged=True, user=None, read_only_root=False, host_network=True)
DEVICE_PLUGIN = Profile(user=None)


def _installer_pod(pool: str, cos: bool) -> list[tuple[str, str, str, str, Profile]]:
    host = INSTALLER_COS if cos else INSTALLER_UBUNTU
    nobody = Profile(user=NOBODY, host_network=True, host_pid=cos)
    name = f"nvidia-driver-{pool}"
    return [
        ("dev", DRIVERS, name, "driver-precheck", nobody),
        ("dev", DRIVERS, name, "nvidia-driver-installer", host),
        ("dev", DRIVERS, name, "driver-verify", nobody),
        ("dev", DRIVERS, name, "pause", nobody),
    ]


def _ollama_pod(stack: str, pool: str, gpu: bool) -> list[tuple[str, str, str, str, Profile]]:
    rows = [(stack, FLEET, f"ollama-{pool}", name, RESTRICTED) for name in ("model-pull", "ollama")]
    return [(stack, FLEET, f"ollama-{pool}", "driver-gate", RESTRICTED_NOBODY)] * gpu + rows


TABLE: list[tuple[str, str, str, str, Profile]] = [
    ("dev", FLEET, "ollama-fleet-router", "router", RESTRICTED),
    *_ollama_pod("dev", "t4", gpu=True),
    *_ollama_pod("dev", "l4", gpu=True),
    *_ollama_pod("dev", "a100", gpu=True),
    *_ollama_pod("dev", "cpu", gpu=False),
    *_installer_pod("t4", cos=True),
    *_installer_pod("l4", cos=False),
    *_installer_pod("a100", cos=True),
    ("home", FLEET, "ollama-fleet-router", "router", RESTRICTED),
    *_ollama_pod("home", "k80", gpu=True),
    *_ollama_pod("home", "m40", gpu=True),
    *_ollama_pod("home", "l4", gpu=True),
    *[
        ("home", DRIVERS, f"nvidia-driver-{p}", c, RESTRICTED_NOBODY)
        for p in ("k80", "m40", "l4")
        for c in ("driver-verify", "pause")
    ],
    ("home", KUBE_SYSTEM, "nvidia-device-plugin", "nvidia-device-plugin", DEVICE_PLUGIN),
]


def _workloads(run: Run) -> dict[str, dict[str, Any]]:
    return {inputs(r)["metadata"]["name"]: inputs(r) for token in WORKLOADS for r in run.of_type(token)}


def _effective(spec: dict[str, Any], security: dict[str, Any], key: str) -> Any:
    """A container's setting, else its pod's (the kubelet's precedence)."""
    return security.get(key, spec.get("securityContext", {}).get(key))


@pytest.mark.parametrize("row", TABLE, ids=[f"{s}:{w}/{c}" for s, _, w, c, _ in TABLE])
def test_each_container_runs_as_its_row_says(
    row: tuple[str, str, str, str, Profile], dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]
) -> None:
    stack, namespace, workload, container, profile = row
    config, run = dev if stack == "dev" else home
    found = _workloads(run)[workload]
    assert found["metadata"]["namespace"] == namespace
    spec = pod_spec(found)
    security = containers(spec)[container].get("securityContext", {})
    talks_to_api = workload == "ollama-fleet-router" and any(p.ollama.scale_to_zero for p in config.pools)
    assert spec["automountServiceAccountToken"] is talks_to_api, "only a router that scales pools has a token"
    assert bool(spec.get("hostNetwork")) is profile.host_network
    assert bool(spec.get("hostPID")) is profile.host_pid
    assert not spec.get("hostIPC")
    assert bool(security.get("privileged")) is profile.privileged
    if profile.privileged:
        return  # privileged means every capability and no seccomp filter: the rest of the row is moot
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["readOnlyRootFilesystem"] is profile.read_only_root
    assert _effective(spec, security, "seccompProfile") == {"type": "RuntimeDefault"}
    if profile.user is None:
        assert not _effective(spec, security, "runAsNonRoot")
    else:
        assert _effective(spec, security, "runAsNonRoot") is True
        assert _effective(spec, security, "runAsUser") == profile.user


@pytest.mark.parametrize("name", ["dev", "home"])
def test_the_table_names_every_container_of_the_stack(
    name: str, dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]
) -> None:
    run = (dev if name == "dev" else home)[1]
    present = {(w, c) for w, data in _workloads(run).items() for c in containers(pod_spec(data))}
    listed = {(w, c) for s, _, w, c, _ in TABLE if s == name}
    assert present == listed


def test_the_only_privileged_container_is_the_gke_installer_in_the_drivers_namespace() -> None:
    privileged = {(s, n, c) for s, n, _, c, p in TABLE if p.privileged}
    assert privileged == {("dev", DRIVERS, "nvidia-driver-installer")}


@pytest.mark.parametrize(("name", "level"), [("dev", "privileged"), ("home", "restricted")])
def test_the_drivers_namespace_is_privileged_only_where_an_installer_runs(
    name: str, level: str, dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]
) -> None:
    run = (dev if name == "dev" else home)[1]
    namespaces = {
        inputs(r)["metadata"]["name"]: inputs(r)["metadata"] for r in run.of_type("kubernetes:core/v1:Namespace")
    }
    assert namespaces[DRIVERS]["labels"]["pod-security.kubernetes.io/enforce"] == level
    assert namespaces[FLEET]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_router_the_stack_builds_runs_by_digest(dev: tuple[StackConfig, Run]) -> None:
    image = containers(pod_spec(_workloads(dev[1])["ollama-fleet-router"]))["router"]["image"]
    assert "@sha256:" in image and ":latest" not in image
