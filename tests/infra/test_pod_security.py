"""Every pod in the fleet's namespace meets the ``restricted`` Pod Security Standard it enforces.

The rules are Kubernetes' own (pod-security-admission, profile ``restricted``), restated here so that a
pod the admission controller would refuse fails a test instead of a deploy.
"""

from __future__ import annotations

from typing import Any

import pytest

from config.stack import StackConfig
from infra.offline.mocks import Run
from tests.infra.fleet import inputs, pod_spec

ALLOWED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
WORKLOADS = ("kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:DaemonSet")


def restricted_violations(spec: dict[str, Any]) -> list[str]:
    """What the ``restricted`` profile refuses in a pod spec."""
    found = [f"host namespace {k}" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k)]
    found += [f"volume {v['name']}" for v in spec.get("volumes", []) if not ALLOWED_VOLUMES & v.keys()]
    pod = spec.get("securityContext", {})
    for container in [*spec.get("initContainers", []), *spec["containers"]]:
        security = container.get("securityContext", {})
        name = container["name"]
        if security.get("privileged"):
            found.append(f"{name}: privileged")
        if security.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation must be false")
        caps = security.get("capabilities", {})
        if "ALL" not in caps.get("drop", []) or set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            found.append(f"{name}: capabilities must drop ALL")
        if not security.get("runAsNonRoot", pod.get("runAsNonRoot")):
            found.append(f"{name}: runAsNonRoot")
        if security.get("runAsUser", pod.get("runAsUser")) == 0:
            found.append(f"{name}: runs as uid 0")
        seccomp = security.get("seccompProfile", pod.get("seccompProfile", {})).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"{name}: seccomp profile")
    return found


@pytest.mark.parametrize("name", ["dev", "home"])
def test_every_pod_of_the_fleet_namespace_is_restricted(
    name: str, dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]
) -> None:
    stack, run = dev if name == "dev" else home
    checked = 0
    for token in WORKLOADS:
        for resource in run.of_type(token):
            data = inputs(resource)
            if data["metadata"]["namespace"] != stack.cluster.namespace:
                continue
            checked += 1
            assert restricted_violations(pod_spec(data)) == [], data["metadata"]["name"]
    assert checked == len(stack.pools) + 1


def test_the_checker_refuses_what_restricted_refuses(dev: tuple[StackConfig, Run]) -> None:
    _, run = dev
    driver = next(inputs(r) for r in run.of_type("kubernetes:apps/v1:DaemonSet"))
    problems = restricted_violations(pod_spec(driver))
    assert "nvidia-driver-installer: privileged" in problems and "volume dev" in problems
