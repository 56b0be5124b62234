"""Every refusal the schema promises: one broken value each, the message names its path and a fix."""

from __future__ import annotations

from typing import Any

import pytest

from tests.config.stacks import accepted, at, refused, stack_data


def _pool(data: dict[str, Any], name: str) -> dict[str, Any]:
    pool: dict[str, Any] = next(p for p in data["pools"] if p["name"] == name)
    return pool


def test_gke_pool_on_a_gpu_gcp_does_not_offer_points_to_existing_clusters() -> None:
    for gpu in ("nvidia-tesla-k80", "nvidia-tesla-m40", "nvidia-tesla-m60"):
        data = stack_data()
        _pool(data, "t4").update(gpu=gpu, driver="470.256.02", machineType="n1-standard-8")
        problems = at(refused(data), "pools[0].gpu")
        assert problems, gpu
        assert "not offered by GCP" in problems[0].message
        assert "type: existing" in problems[0].fix


def test_accelerator_on_a_machine_family_it_cannot_attach_to() -> None:
    data = stack_data()
    _pool(data, "t4")["machineType"] = "a2-highgpu-1g"
    (problem,) = at(refused(data), "pools[0].machineType")
    assert "'a2-highgpu-1g' cannot carry nvidia-tesla-t4" in problem.message
    assert "n1-standard-8" in problem.fix


def test_gpu_count_the_machine_type_does_not_carry() -> None:
    data = stack_data()
    _pool(data, "l4")["gpusPerNode"] = 2
    (problem,) = at(refused(data), "pools[1].gpusPerNode")
    assert "g2-standard-8 carries 1" in problem.message
    data = stack_data()
    _pool(data, "t4")["gpusPerNode"] = 3
    (problem,) = at(refused(data), "pools[0].gpusPerNode")
    assert "not 3" in problem.message


def test_driver_branch_too_new_for_a_k80() -> None:
    data = stack_data("home")
    _pool(data, "k80")["driver"] = "550.90.12"
    problems = at(refused(data), "pools[0].driver")
    assert any("last branch is R470" in p.message for p in problems)


def test_driver_too_old_for_official_ollama() -> None:
    data = stack_data()
    _pool(data, "t4")["driver"] = "R535"
    (problem,) = at(refused(data), "pools[0].driver")
    assert "R550+" in problem.message


def test_driver_below_570_refused_for_official_ollama_below_compute_capability_7() -> None:
    data = stack_data("home")
    _pool(data, "m40")["driver"] = "550.90.12"
    (problem,) = at(refused(data), "pools[1].driver")
    assert "R570+" in problem.message


def test_official_image_refused_on_a_kepler_gpu() -> None:
    data = stack_data("home")
    _pool(data, "k80")["ollama"] = {"image": "ollama/ollama:0.32.15", "models": ["llama3.2:3b"]}
    (problem,) = at(refused(data), "pools[0].ollama.image")
    assert "compute capability 5.0+" in problem.message


def test_non_official_image_needs_min_driver_and_the_driver_must_meet_it() -> None:
    data = stack_data("home")
    del _pool(data, "k80")["ollama"]["minDriver"]
    (problem,) = at(refused(data), "pools[0].ollama.minDriver")
    assert "not an official ollama/ollama image" in problem.message
    data = stack_data("home")
    _pool(data, "k80")["ollama"]["minDriver"] = "470.300.01"
    (problem,) = at(refused(data), "pools[0].driver")
    assert "below the image's minDriver 470.300.01" in problem.message


def test_duplicate_pool_names() -> None:
    data = stack_data()
    _pool(data, "l4")["name"] = "t4"
    problems = at(refused(data), "pools[1].name")
    assert "used twice" in problems[0].message


def test_model_routed_to_a_pool_that_does_not_exist() -> None:
    data = stack_data()
    data["routes"][0]["backends"] = ["t4", "h100"]
    (problem,) = at(refused(data), "routes[0].backends[1]")
    assert "unknown pool 'h100'" in problem.message
    assert "t4" in problem.fix


def test_names_that_cannot_become_kubernetes_or_gcp_names() -> None:
    data = stack_data()
    _pool(data, "t4")["name"] = "T4_Pool"
    assert at(refused(data), "pools[0].name")
    data = stack_data()
    data["cluster"]["namespace"] = "Ollama Fleet"
    assert at(refused(data), "cluster.namespace")
    data = stack_data()
    _pool(data, "t4")["ollama"]["models"] = ["llama3.2:3b", "bad/na me"]
    assert at(refused(data), "pools[0].ollama.models")


def test_node_range_upside_down() -> None:
    data = stack_data()
    _pool(data, "t4")["nodes"] = {"min": 3, "max": 1}
    (problem,) = at(refused(data), "pools[0].nodes")
    assert "min (3) is greater than max (1)" in problem.message


def test_gke_pool_without_zones() -> None:
    data = stack_data()
    del _pool(data, "a100")["zones"]
    (problem,) = at(refused(data), "pools[2].zones")
    assert "zones" in problem.fix


def test_gke_pool_defaults_are_valid_for_its_gpu() -> None:
    data = stack_data()
    for name in ("t4", "l4", "a100"):
        pool = _pool(data, name)
        for key in ("machineType", "nodeImage", "gpusPerNode"):
            pool.pop(key, None)
        pool["driver"] = "R570"  # the default node image is COS, where a pool pins a branch
    stack = accepted(data)
    assert stack.pool("l4") is not None


def test_replicas_cannot_share_a_read_write_once_claim() -> None:
    data = stack_data()
    _pool(data, "l4")["ollama"].update(existingClaim="models", accessMode="ReadWriteOnce")
    (problem,) = at(refused(data), "pools[1].ollama.replicas")
    assert "cannot share" in problem.message
    _pool(data, "l4")["ollama"]["accessMode"] = "ReadWriteMany"
    accepted(data)


def test_unknown_keys_are_refused_with_their_path() -> None:
    data = stack_data()
    _pool(data, "t4")["machinetype"] = "n1-standard-8"
    (problem,) = at(refused(data), "pools[0].machinetype")
    assert "unknown key" in problem.message


def test_all_problems_of_one_file_are_reported_together() -> None:
    data = stack_data()
    _pool(data, "t4")["driver"] = "R535"
    _pool(data, "l4")["machineType"] = "n1-standard-8"
    _pool(data, "a100")["nodes"] = {"min": 2, "max": 1}
    data["cluster"]["namespace"] = "Bad_NS"
    paths = {problem.path for problem in refused(data)}
    assert {"pools[0].driver", "pools[1].machineType", "pools[2].nodes", "cluster.namespace"} <= paths


def test_cpu_pool_takes_no_driver() -> None:
    data = stack_data()
    _pool(data, "cpu")["driver"] = "570.124.06"
    (problem,) = at(refused(data), "pools[3].driver")
    assert "CPU-only" in problem.message


def test_existing_cluster_pool_needs_a_node_selector_and_a_router_image() -> None:
    data = stack_data("home")
    del _pool(data, "m40")["nodeSelector"]
    del data["router"]["image"]
    problems = refused(data)
    assert at(problems, "pools[1].nodeSelector")
    assert at(problems, "router.image")


def test_gke_stack_needs_a_project() -> None:
    data = stack_data()
    del data["gcp:project"]
    (problem,) = at(refused(data), "gcp:project")
    assert "pulumi config set gcp:project" in problem.fix


def test_alias_to_a_model_nobody_serves() -> None:
    data = stack_data()
    data["aliases"]["fast"] = "phi4:latest"
    (problem,) = at(refused(data), "aliases.fast:latest")
    assert "no pool serves" in problem.message


def test_route_to_a_pool_that_does_not_pull_the_model() -> None:
    data = stack_data()
    data["routes"].append({"model": "gemma3:27b", "backends": ["t4"]})
    (problem,) = at(refused(data), "routes[2].backends[0]")
    assert "does not pull 'gemma3:27b'" in problem.message


def test_gke_pool_cannot_take_the_system_pools_name() -> None:
    data = stack_data()
    _pool(data, "cpu")["name"] = "system"
    (problem,) = at(refused(data), "pools[3].name")
    assert "system pool" in problem.message


def test_engine_config_reports_unknown_keys_and_schema_problems_together() -> None:
    import json

    from config.errors import ConfigError
    from config.loading import from_pulumi_config

    data = stack_data()
    _pool(data, "t4")["nodes"] = {"min": 2, "max": 1}
    engine = {f"ollama-fleet:{k}" if ":" not in k else k: json.dumps(v) for k, v in data.items()}
    engine["ollama-fleet:routs"] = "[]"
    with pytest.raises(ConfigError) as caught:
        from_pulumi_config(engine)
    paths = {problem.path for problem in caught.value.problems}
    assert {"ollama-fleet:routs", "pools[0].nodes"} <= paths


# --- how the router is exposed: bearer keys never cross a public address in clear text ----------------


def _plain_router(data: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``data`` with a router that has no HTTPS door and no opt-out, plus ``changes``."""
    router: dict[str, Any] = data["router"]
    for key in ("tls", "allowInsecureHttp"):
        router.pop(key, None)
    router.update(changes)
    return data


def test_a_public_router_without_tls_is_refused_naming_router_tls_and_the_fix() -> None:
    for service in ({"type": "LoadBalancer"}, {"type": "LoadBalancer", "sourceRanges": ["203.0.113.0/24"]}):
        (problem,) = at(refused(_plain_router(stack_data(), service=service)), "router.tls")
        assert "clear text" in problem.message and "external LoadBalancer" in problem.message
        assert "router.tls.domains" in problem.fix and "router.allowInsecureHttp: true" in problem.fix
        assert "service.internal: true" in problem.fix
    (problem,) = at(refused(_plain_router(stack_data("home"))), "router.tls")
    assert "NodePort" in problem.message
    assert "router.tls.secretName" in problem.fix and "internal" not in problem.fix


def test_configured_keys_count_as_much_as_a_generated_one() -> None:
    keys = {"secure": "v1:AAAA"}
    for change in ({"apiKeys": keys}, {"adminKeys": keys}, {"allowAnonymous": True, "adminKeys": keys}):
        assert at(refused(_plain_router(stack_data(), service={"type": "NodePort"}, **change)), "router.tls"), change


def test_the_explicit_opt_out_private_services_and_anonymous_routers_are_accepted() -> None:
    accepted(_plain_router(stack_data(), service={"type": "LoadBalancer"}, allowInsecureHttp=True))
    accepted(_plain_router(stack_data(), service={"type": "LoadBalancer", "internal": True}))
    accepted(_plain_router(stack_data(), service={"type": "ClusterIP"}))
    accepted(_plain_router(stack_data(), service={"type": "NodePort"}, allowAnonymous=True))
    home = accepted(stack_data("home"))
    assert home.router.allow_insecure_http and home.router.service.type == "NodePort"


def test_tls_behind_a_public_plain_http_service_is_refused() -> None:
    data = stack_data()
    data["router"]["service"] = {"type": "LoadBalancer"}
    (problem,) = at(refused(data), "router.tls")
    assert "still serves plain HTTP" in problem.message and "type: ClusterIP" in problem.fix
    dev = accepted(stack_data())
    assert dev.router.tls is not None and dev.router.service.type == "ClusterIP" and dev.router.generates_key


def test_a_google_managed_certificate_needs_gke() -> None:
    data = _plain_router(stack_data("home"), service={"type": "ClusterIP"}, tls={"domains": ["ollama.home.arpa"]})
    (problem,) = at(refused(data), "router.tls.domains")
    assert "GKE" in problem.message and "secretName" in problem.fix
    data["router"]["tls"] = {"secretName": "fleet-tls", "domains": ["ollama.home.arpa"], "ingressClassName": "nginx"}
    accepted(data)


def test_tls_settings_that_cannot_work_are_refused() -> None:
    data = stack_data()
    data["router"]["tls"] = {"domains": [f"{'a' * 60}.example.org"]}
    assert "63 characters" in at(refused(data), "router.tls.domains[0]")[0].message
    data["router"]["tls"] = {"secretName": "fleet-tls", "ingressClassName": "nginx"}
    assert "GKE's own Ingress" in at(refused(data), "router.tls.ingressClassName")[0].message
    data["router"]["tls"] = {}
    assert "names no certificate" in at(refused(data), "router.tls")[0].message
    data["router"]["tls"] = {"domains": ["*.example.org"]}
    assert at(refused(data), "router.tls.domains[0]")
    data["router"]["tls"] = {"domains": ["a.example.org", "a.example.org"]}
    assert "more than once" in at(refused(data), "router.tls")[0].message


def test_service_settings_a_service_type_would_silently_ignore_are_refused() -> None:
    data = _plain_router(
        stack_data(), service={"type": "NodePort", "sourceRanges": ["10.0.0.0/8"]}, allowInsecureHttp=True
    )
    assert "admit every client" in at(refused(data), "router.service.sourceRanges")[0].message
    data = _plain_router(stack_data(), service={"type": "ClusterIP", "internal": True})
    assert at(refused(data), "router.service.internal")
