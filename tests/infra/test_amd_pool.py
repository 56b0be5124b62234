"""An AMD pool on an existing cluster: amd.com/gpu limits, AMD's device plugin, nothing of NVIDIA's, own nodes only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from config.stack import StackConfig
from infra.offline.mocks import Run
from tests.infra.fleet import POOL_LABEL_KEY, containers, file_value, inputs, one, pod_spec, run_stack
from tests.infra.scheduler import Node, Pod, placement_errors

STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
AMD_SELECTOR = {"amd.com/gpu.product-name": "AMD_Radeon_RX_7900_XTX"}
RADEON: dict[str, Any] = {
    "name": "radeon",
    "gpu": "amd-radeon-rx-7900-xtx",
    "nodeSelector": AMD_SELECTOR,
    "ollama": {
        "image": "ollama/ollama:0.32.15-rocm",
        "models": ["qwen2.5:14b"],
        "supplementalGroups": [44, 110],
    },
}
CPU: dict[str, Any] = {"name": "cpu", "nodeSelector": {"fleet/pool": "cpu"}, "ollama": {"models": ["llama3.2:1b"]}}


@pytest.fixture(scope="module")
def mixed() -> tuple[StackConfig, Run]:
    """The home stack's NVIDIA pools plus an RX 7900 XTX pool."""
    return run_stack("home", pools=[*file_value("home", "pools"), RADEON])


@pytest.fixture(scope="module")
def amd_only() -> tuple[StackConfig, Run]:
    """A rig with only an AMD card and a CPU node."""
    return run_stack("home", pools=[RADEON, CPU], defaultPool="radeon")


def _ollama(run: Run, pool: str) -> dict[str, Any]:
    return one(run, STATEFUL_SET, name=f"ollama-{pool}")


def test_the_amd_pool_asks_for_amd_gpus_and_nothing_of_nvidia(mixed: tuple[StackConfig, Run]) -> None:
    spec = pod_spec(_ollama(mixed[1], "radeon"))
    server = containers(spec)["ollama"]
    assert server["resources"]["limits"]["amd.com/gpu"] == "1"
    assert server["image"] == "ollama/ollama:0.32.15-rocm"
    assert list(containers(spec)) == ["model-pull", "ollama"], "no NVIDIA driver gate"
    assert "nvidia" not in json.dumps(spec).lower()


def test_the_amd_pool_mounts_no_devices_and_joins_the_device_groups(mixed: tuple[StackConfig, Run]) -> None:
    spec = pod_spec(_ollama(mixed[1], "radeon"))
    assert spec["securityContext"]["supplementalGroups"] == [44, 110]
    assert all("hostPath" not in volume for volume in spec.get("volumes", []))
    assert all(not c["securityContext"].get("privileged") for c in containers(spec).values())


def test_nvidia_pools_keep_their_driver_gate_and_nvidia_limits(mixed: tuple[StackConfig, Run]) -> None:
    l4 = pod_spec(_ollama(mixed[1], "l4"))
    assert "driver-gate" in containers(l4)
    assert containers(l4)["ollama"]["resources"]["limits"]["nvidia.com/gpu"] == "1"


def test_only_nvidia_pools_get_driver_daemon_sets(mixed: tuple[StackConfig, Run]) -> None:
    names = {inputs(r)["metadata"]["name"] for r in mixed[1].of_type(DAEMON_SET)}
    assert "nvidia-driver-radeon" not in names
    assert {"nvidia-driver-l4", "nvidia-device-plugin", "amdgpu-device-plugin"} <= names


def test_amds_device_plugin_runs_on_the_amd_pool_only_without_privilege(mixed: tuple[StackConfig, Run]) -> None:
    plugin = one(mixed[1], DAEMON_SET, name="amdgpu-device-plugin")
    spec = pod_spec(plugin)
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [
        {"matchExpressions": [{"key": k, "operator": "In", "values": [v]} for k, v in AMD_SELECTOR.items()]}
    ]
    (container,) = spec["containers"]
    assert container["image"] == "docker.io/rocm/k8s-device-plugin:1.31.0.9"
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert not container["securityContext"].get("privileged")
    mounts = {m["mountPath"]: m.get("readOnly", False) for m in container["volumeMounts"]}
    assert mounts == {"/var/lib/kubelet/device-plugins": False, "/sys": True}
    nvidia_plugin = pod_spec(one(mixed[1], DAEMON_SET, name="nvidia-device-plugin"))
    assert "amd.com" not in json.dumps(nvidia_plugin["affinity"])


def test_a_rig_with_only_an_amd_card_creates_no_nvidia_object(amd_only: tuple[StackConfig, Run]) -> None:
    _, run = amd_only
    everything = json.dumps([{"name": r.name, "inputs": inputs(r)} for r in run.resources]).lower()
    assert "nvidia" not in everything
    assert not [r for r in run.of_type("kubernetes:core/v1:Namespace") if "drivers" in r.name]


def _nodes() -> list[Node]:
    """Two AMD nodes, an NVIDIA node no pool uses (the router may), a system node, a CPU pool node."""
    amd = [Node(f"radeon-{i}", "radeon", {**AMD_SELECTOR}, extended={"amd.com/gpu": 1}) for i in range(2)]
    nvidia = Node("l4-0", "unused", {"nvidia.com/gpu.product": "NVIDIA-L4"}, gpus=1)
    system = Node("system-0", "system", {})
    cpu = Node("cpu-0", "cpu", {"fleet/pool": "cpu"})
    nodes = [*amd, nvidia, system, cpu]
    for node in nodes:
        node.labels["kubernetes.io/hostname"] = node.name
    return nodes


def test_every_workload_of_an_amd_rig_schedules_on_its_own_nodes_only(amd_only: tuple[StackConfig, Run]) -> None:
    _, run = amd_only
    errors: list[str] = []
    for token in (STATEFUL_SET, DAEMON_SET, "kubernetes:apps/v1:Deployment"):
        for resource in run.of_type(token):
            data = inputs(resource)
            metadata = data["metadata"]
            pool = metadata.get("labels", {}).get(POOL_LABEL_KEY)
            plugin = metadata["name"] == "amdgpu-device-plugin"
            allowed = {pool} if pool else {"radeon"} if plugin else {"system", "unused"}
            errors += placement_errors(Pod(metadata["name"], pod_spec(data)), _nodes(), allowed)
    assert errors == []


def test_without_an_amd_gpu_free_the_amd_pool_fits_nowhere(amd_only: tuple[StackConfig, Run]) -> None:
    pod = Pod("ollama-radeon", pod_spec(_ollama(amd_only[1], "radeon")))
    busy = [Node("radeon-0", "radeon", {**AMD_SELECTOR, "kubernetes.io/hostname": "radeon-0"})]
    errors = placement_errors(pod, busy, {"radeon"})
    assert errors and "needs 1 amd.com/gpu, node has 0" in errors[0]
