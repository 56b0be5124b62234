"""Each pool's Ollama: one volume per replica (or a shared claim), its env, probes, Services, no waiting."""

from __future__ import annotations

from config.derive import derive_model_map
from config.k8s_names import ollama_headless_service, ollama_service
from config.memory import effective_memory
from config.stack import StackConfig
from infra.k8s.images import mirror_uri, through_mirror
from infra.offline.mocks import Run
from tests.infra.fleet import containers, env_of, file_value, one, pod_spec, run_stack

STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
SERVICE = "kubernetes:core/v1:Service"


def test_every_replica_gets_its_own_model_volume(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    for pool in stack.pools:
        workload = one(run, STATEFUL_SET, name=f"ollama-{pool.name}")
        assert workload["spec"]["replicas"] == pool.ollama.replicas
        [template] = workload["spec"]["volumeClaimTemplates"]
        assert template["spec"]["resources"] == {"requests": {"storage": pool.ollama.storage}}
        assert template["spec"]["accessModes"] == [pool.ollama.access_mode]
        assert workload["spec"]["persistentVolumeClaimRetentionPolicy"] == {
            "whenDeleted": "Retain",
            "whenScaled": "Retain",
        }
        for name in ("model-pull", "ollama"):
            mounts = containers(pod_spec(workload))[name]["volumeMounts"]
            assert {"name": template["metadata"]["name"], "mountPath": "/var/lib/ollama"} in mounts


def test_a_shared_existing_claim_replaces_the_templates() -> None:
    pools = file_value("dev", "pools")
    pools[3]["ollama"] |= {"existingClaim": "shared-models", "storageClass": "premium-rwo"}
    stack, run = run_stack("dev", pools=pools)
    workload = one(run, STATEFUL_SET, name=f"ollama-{stack.pools[3].name}")
    assert "volumeClaimTemplates" not in workload["spec"]
    volumes = pod_spec(workload)["volumes"]
    assert {"name": "models", "persistentVolumeClaim": {"claimName": "shared-models"}} in volumes
    pools[3]["ollama"].pop("existingClaim")
    _, run = run_stack("dev", pools=pools)
    [template] = one(run, STATEFUL_SET, name="ollama-cpu")["spec"]["volumeClaimTemplates"]
    assert template["spec"]["storageClassName"] == "premium-rwo"


def test_server_env_carries_the_pool_settings_and_the_stack_decides_host_and_store(
    dev: tuple[StackConfig, Run],
) -> None:
    stack, run = dev
    mirror = mirror_uri(stack.project or "", stack.region or "")
    for pool in stack.pools:
        server = containers(pod_spec(one(run, STATEFUL_SET, name=f"ollama-{pool.name}")))["ollama"]
        env = env_of(server)
        assert env["OLLAMA_HOST"] == "0.0.0.0:11434" and env["OLLAMA_MODELS"] == "/var/lib/ollama/models"
        assert {k: env[k] for k in pool.ollama.env} == pool.ollama.env
        assert env["FLEET_MODELS"].split() == pool.ollama.models
        assert server["image"] == through_mirror(pool.ollama.image, mirror)
        assert server["resources"]["requests"] == {"cpu": pool.ollama.cpu, "memory": effective_memory(pool)}


def test_pull_runs_first_against_a_private_server(dev: tuple[StackConfig, Run]) -> None:
    _, run = dev
    pull = containers(pod_spec(one(run, STATEFUL_SET, name="ollama-l4")))["model-pull"]
    env = env_of(pull)
    assert env["OLLAMA_HOST"] == "127.0.0.1:11434" and env["OLLAMA_MODELS"] == "/var/lib/ollama/models"
    assert int(env["PULL_ATTEMPTS"]) > 1 and int(env["PULL_BACKOFF"]) > 0
    assert "ollama pull" in pull["command"][-1] and "ollama show" in pull["command"][-1]


def test_probes_mean_server_up_and_models_present(dev: tuple[StackConfig, Run]) -> None:
    _, run = dev
    server = containers(pod_spec(one(run, STATEFUL_SET, name="ollama-t4")))["ollama"]
    assert server["readinessProbe"]["exec"]["command"][:2] == ["sh", "-c"]
    assert 'ollama show "$model"' in server["readinessProbe"]["exec"]["command"][2]
    assert server["livenessProbe"]["httpGet"] == {"path": "/", "port": "http"}
    assert server["startupProbe"]["failureThreshold"] * server["startupProbe"]["periodSeconds"] >= 300


def test_pulumi_does_not_wait_for_gpu_workloads(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    for pool in stack.pools:
        for token, name in (
            (STATEFUL_SET, f"ollama-{pool.name}"),
            (SERVICE, ollama_service(pool.name)),
            (SERVICE, ollama_headless_service(pool.name)),
        ):
            assert one(run, token, name=name)["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"


def test_services_are_the_ones_the_model_map_points_at(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    urls = {b.name: b.url for b in derive_model_map(stack).backends}
    for pool in stack.pools:
        workload = one(run, STATEFUL_SET, name=f"ollama-{pool.name}")
        cluster_ip = one(run, SERVICE, name=ollama_service(pool.name))
        headless = one(run, SERVICE, name=ollama_headless_service(pool.name))
        assert workload["spec"]["serviceName"] == headless["metadata"]["name"]
        assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["publishNotReadyAddresses"] is False
        assert "clusterIP" not in cluster_ip["spec"] and cluster_ip["spec"]["type"] == "ClusterIP"
        for service in (cluster_ip, headless):
            assert service["spec"]["selector"] == workload["spec"]["selector"]["matchLabels"]
            assert service["spec"]["ports"] == [{"name": "http", "port": 11434, "targetPort": "http"}]
        host = urls[pool.name].removeprefix("http://").split(".")[0]
        assert host in (cluster_ip["metadata"]["name"], headless["metadata"]["name"])
        assert urls[pool.name].split(".")[1] == workload["metadata"]["namespace"]


def test_ollama_runs_unprivileged_on_a_read_only_root(dev: tuple[StackConfig, Run]) -> None:
    stack, run = dev
    for pool in stack.pools:
        spec = pod_spec(one(run, STATEFUL_SET, name=f"ollama-{pool.name}"))
        security = spec["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] >= 10000
        assert security["fsGroup"] == security["runAsUser"] and security["fsGroupChangePolicy"] == "OnRootMismatch"
        for name in ("model-pull", "ollama"):
            container = containers(spec)[name]
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
            assert env_of(container)["HOME"] == "/var/lib/ollama", "Ollama's key and CUDA's cache live on the volume"
