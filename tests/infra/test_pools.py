"""Per pool, as recorded: node pool taint and label, matching tolerations and selection, GPUs, driver pin."""

from __future__ import annotations

from typing import Any

import pytest

from config.k8s_names import POOL_LABEL, driver_namespace
from config.node_generation import GENERATION_LABEL, gke_node_pool_name, node_generation
from config.stack import PoolSpec, StackConfig
from infra.offline.mocks import Run
from tests.infra.fleet import containers, env_of, inputs, one, pod_spec, run_stack

NODE_POOL = "gcp:container/nodePool:NodePool"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"


def _node_pool(run: Run, pool: PoolSpec) -> dict[str, Any]:
    """The GKE node pool of ``pool``'s current generation."""
    name = gke_node_pool_name(pool)
    found = [inputs(r) for r in run.of_type(NODE_POOL) if inputs(r)["name"] == name]
    assert len(found) == 1, name
    return found[0]


def _ollama(run: Run, pool: str) -> dict[str, Any]:
    return one(run, STATEFUL_SET, name=f"ollama-{pool}")


def _driver(run: Run, pool: str) -> dict[str, Any]:
    return one(run, DAEMON_SET, name=f"nvidia-driver-{pool}")


def _pool_tolerations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in spec.get("tolerations", []) if t["key"] != "nvidia.com/gpu"]


def _gpu_limit(workload: dict[str, Any]) -> Any:
    return containers(pod_spec(workload))["ollama"]["resources"]["limits"].get("nvidia.com/gpu")


def test_every_gke_pool_is_a_tainted_labelled_node_pool(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    for pool in stack.pools:
        config = _node_pool(run, pool)["nodeConfig"]
        assert config["taints"] == [{"key": POOL_LABEL, "value": pool.name, "effect": "NO_SCHEDULE"}]
        assert config["labels"] == {POOL_LABEL: pool.name, GENERATION_LABEL: node_generation(pool)}
        assert config["imageType"] == pool.node_image
        assert _node_pool(run, pool)["nodeLocations"] == pool.zones


def test_every_gke_gpu_pool_leaves_the_driver_to_us(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    for pool in stack.pools:
        accelerators = _node_pool(run, pool)["nodeConfig"].get("guestAccelerators")
        if pool.gpu is None:
            assert accelerators is None
            continue
        assert accelerators == [
            {
                "type": pool.gpu,
                "count": pool.gpus_per_node,
                "gpuDriverInstallationConfig": {"gpuDriverVersion": "INSTALLATION_DISABLED"},
            }
        ]


def test_gke_pool_autoscaling_spot_and_machine(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    for pool in stack.pools:
        node_pool = _node_pool(run, pool)
        scaling = node_pool["autoscaling"]
        assert (scaling["totalMinNodeCount"], scaling["totalMaxNodeCount"]) == (pool.nodes.min, pool.nodes.max)
        assert scaling["locationPolicy"] == ("ANY" if pool.spot else "BALANCED")
        assert node_pool["nodeConfig"].get("spot", False) is pool.spot
        assert node_pool["nodeConfig"]["machineType"] == pool.machine_type
        assert node_pool["management"] == {"autoRepair": True, "autoUpgrade": True}


def test_machine_type_defaults_to_the_catalog() -> None:
    from config.gpu_catalog import gpu_info
    from tests.infra.fleet import file_value

    pools = file_value("dev", "pools")
    del pools[0]["machineType"]
    stack, run = run_stack("dev", pools=pools)
    info = gpu_info(stack.pools[0].gpu or "")
    assert info is not None and info.default_machine_type
    assert _node_pool(run, stack.pools[0])["nodeConfig"]["machineType"] == info.default_machine_type


@pytest.mark.parametrize("name", ["dev", "home"])
def test_ollama_and_driver_tolerate_and_select_exactly_their_pool(
    name: str, dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]
) -> None:
    stack, run = dev if name == "dev" else home
    for pool in stack.pools:
        workloads = [_ollama(run, pool.name)] + ([_driver(run, pool.name)] if pool.gpu else [])
        for workload in workloads:
            spec = pod_spec(workload)
            expected_taint = _expected_taint(stack, pool)
            assert _pool_tolerations(spec) == ([expected_taint] if expected_taint else [])
            assert spec["nodeSelector"] == _expected_selector(stack, pool)
            gpu_tolerations = [t for t in spec.get("tolerations", []) if t["key"] == "nvidia.com/gpu"]
            assert gpu_tolerations == (
                [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}] if pool.gpu else []
            )


def _expected_taint(stack: StackConfig, pool: PoolSpec) -> dict[str, str] | None:
    if stack.is_gke:
        return {"key": POOL_LABEL, "operator": "Equal", "value": pool.name, "effect": "NoSchedule"}
    if pool.taint is None:
        return None
    return {"key": pool.taint.key, "operator": "Equal", "value": pool.taint.value, "effect": pool.taint.effect}


def _expected_selector(stack: StackConfig, pool: PoolSpec) -> dict[str, str]:
    if stack.is_gke:
        return {
            POOL_LABEL: pool.name,
            GENERATION_LABEL: node_generation(pool),
            "cloud.google.com/gke-nodepool": gke_node_pool_name(pool),
        }
    return dict(pool.node_selector)


@pytest.mark.parametrize("name", ["dev", "home"])
def test_no_gpu_workload_reaches_for_another_pool(
    name: str, dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]
) -> None:
    stack, run = dev if name == "dev" else home
    for resource in [*run.of_type(STATEFUL_SET), *run.of_type(DAEMON_SET)]:
        data = inputs(resource)
        own = data["metadata"]["labels"].get(POOL_LABEL)
        if own is None:
            continue
        others = {p.name: p for p in stack.pools if p.name != own}
        spec = pod_spec(data)
        mentioned = {t.get("value") for t in spec.get("tolerations", [])} | set(spec.get("nodeSelector", {}).values())
        for other in others.values():
            foreign = {other.name} if stack.is_gke else set(other.node_selector.values())
            if other.taint:
                foreign.add(other.taint.value)
            assert not (mentioned & foreign), (data["metadata"]["name"], other.name)


@pytest.mark.parametrize("name", ["dev", "home"])
def test_gpu_limits_equal_gpus_per_node(name: str, dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]) -> None:
    stack, run = dev if name == "dev" else home
    for pool in stack.pools:
        expected = str(pool.gpus_per_node) if pool.gpu else None
        assert _gpu_limit(_ollama(run, pool.name)) == expected, pool.name
        spec = pod_spec(_ollama(run, pool.name))
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            if container["name"] != "ollama":
                assert "nvidia.com/gpu" not in container["resources"].get("limits", {}), container["name"]


def test_cos_pools_pin_with_version_flag_and_ubuntu_pools_with_env(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    images = {p.node_image for p in stack.pools if p.gpu}
    assert images == {"COS_CONTAINERD", "UBUNTU_CONTAINERD"}, "dev must exercise both installers"
    for pool in (p for p in stack.pools if p.gpu):
        ds = _driver(run, pool.name)
        assert ds["metadata"]["namespace"] == driver_namespace(stack.cluster.namespace)
        installer = containers(pod_spec(ds))["nvidia-driver-installer"]
        if pool.node_image == "COS_CONTAINERD":
            assert installer["image"] == "cos-nvidia-installer:fixed"
            script = installer["command"][-1]
            assert pool.driver is not None and pool.driver.startswith("R")
            assert '/cos-gpu-installer install --version="$build"\n' in script
            assert f"^{pool.driver[1:]}" in script, "the build is chosen from the pinned branch"
            assert "lsmod" not in script
            assert "NVIDIA_DRIVER_VERSION" not in env_of(installer)
        else:
            assert installer["image"] == "gke-nvidia-installer:fixed"
            assert env_of(installer)["NVIDIA_DRIVER_VERSION"] == pool.driver
            assert "command" not in installer


def test_installer_host_paths_follow_the_node_image(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    for pool in (p for p in stack.pools if p.gpu):
        spec = pod_spec(_driver(run, pool.name))
        paths = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"]}
        mounts = {m["name"]: m["mountPath"] for m in containers(spec)["nvidia-driver-installer"]["volumeMounts"]}
        if pool.node_image == "COS_CONTAINERD":
            assert paths["nvidia-install-dir-host"] == "/home/kubernetes/bin/nvidia"
            assert mounts["nvidia-install-dir-host"] == "/usr/local/nvidia"
            assert (paths["cos-tools"], mounts["cos-tools"]) == ("/var/lib/cos-tools", "/build/cos-tools")
            assert spec["hostPID"] is True
        else:
            assert (paths["boot"], mounts["boot"]) == ("/boot", "/boot")
        assert (paths["root-mount"], mounts["root-mount"]) == ("/", "/root")
        assert (paths["dev"], mounts["dev"]) == ("/dev", "/dev")


def test_only_the_installer_is_privileged_and_checks_surround_it(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    for pool in (p for p in stack.pools if p.gpu):
        spec = pod_spec(_driver(run, pool.name))
        names = [c["name"] for c in spec["initContainers"]]
        assert names == ["driver-precheck", "nvidia-driver-installer", "driver-verify"]
        privileged = [n for n, c in containers(spec).items() if c.get("securityContext", {}).get("privileged")]
        assert privileged == ["nvidia-driver-installer"]
        assert containers(spec)["pause"]["image"].startswith("registry.k8s.io/pause:")
        for check in ("driver-precheck", "driver-verify"):
            assert env_of(containers(spec)[check])["PINNED_DRIVER"] == pool.driver
        assert "ALLOW_NO_DRIVER" in env_of(containers(spec)["driver-precheck"])
        assert "ALLOW_NO_DRIVER" not in env_of(containers(spec)["driver-verify"])
        terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert terms["nodeSelectorTerms"][0]["matchExpressions"] == [
            {"key": "cloud.google.com/gke-gpu-driver-version", "operator": "DoesNotExist"}
        ]


def test_existing_cluster_verifies_the_host_driver_with_nvidia_smi(home: tuple[StackConfig, Run]) -> None:
    stack, run = home
    for pool in (p for p in stack.pools if p.gpu):
        spec = pod_spec(_driver(run, pool.name))
        verify = containers(spec)["driver-verify"]
        assert verify["image"].startswith("nvcr.io/nvidia/cuda:")
        assert "nvidia-smi --query-gpu=driver_version --format=csv,noheader" in verify["command"][-1]
        assert env_of(verify)["PINNED_DRIVER"] == pool.driver
        assert env_of(verify)["NVIDIA_DISABLE_REQUIRE"] == "1"
        assert not any(c.get("securityContext", {}).get("privileged") for c in containers(spec).values())
        assert "volumes" not in spec


@pytest.mark.parametrize("name", ["dev", "home"])
def test_ollama_pods_refuse_a_node_without_the_pinned_driver(
    name: str, dev: tuple[StackConfig, Run], home: tuple[StackConfig, Run]
) -> None:
    stack, run = dev if name == "dev" else home
    for pool in stack.pools:
        init = [c["name"] for c in pod_spec(_ollama(run, pool.name))["initContainers"]]
        if pool.gpu is None:
            assert init == ["model-pull"]
            continue
        assert init == ["driver-gate", "model-pull"]
        gate = containers(pod_spec(_ollama(run, pool.name)))["driver-gate"]
        assert env_of(gate)["PINNED_DRIVER"] == pool.driver and "ALLOW_NO_DRIVER" not in env_of(gate)


def test_existing_clusters_get_the_device_plugin_on_every_gpu_pool(home: tuple[StackConfig, Run]) -> None:
    stack, run = home
    plugin = one(run, DAEMON_SET, name="nvidia-device-plugin")
    spec = pod_spec(plugin)
    assert plugin["metadata"]["namespace"] == "kube-system"
    assert containers(spec)["nvidia-device-plugin"]["image"] == "nvcr.io/nvidia/k8s-device-plugin:v0.17.4"
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    expected = [
        [{"key": k, "operator": "In", "values": [v]} for k, v in sorted(p.node_selector.items())]
        for p in stack.pools
        if p.gpu
    ]
    assert [t["matchExpressions"] for t in terms] == expected
    m40 = stack.pool("m40")
    assert m40 is not None and m40.taint is not None
    assert {"key": m40.taint.key, "operator": "Equal", "value": m40.taint.value, "effect": "NoSchedule"} in spec[
        "tolerations"
    ]


def test_device_plugin_is_optional(home: tuple[StackConfig, Run]) -> None:
    from tests.infra.fleet import file_value

    cluster = file_value("home", "cluster") | {"devicePlugin": False}
    _, run = run_stack("home", cluster=cluster)
    names = [inputs(r)["metadata"]["name"] for r in run.of_type(DAEMON_SET)]
    assert "nvidia-device-plugin" not in names and len(names) == 3
