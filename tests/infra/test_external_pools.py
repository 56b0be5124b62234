"""External pools in the rendered stack: nothing runs for them, the router gets their token and CA, and may
reach their port and nothing more (asked through the independent NetworkPolicy evaluator)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from config.derive import derive_model_map
from config.external import UPSTREAM_DIR
from config.stack import StackConfig
from infra.offline.mocks import REDACTED, Run
from infra.workloads.router_upstream import UPSTREAM_SECRET
from tests.infra.fleet import containers, file_value, inputs, one, pod_spec, run_stack
from tests.infra.netpol import Expectation, External, violations
from tests.infra.test_network import INTERNET, METADATA, TCP, world

RIG_TOKEN = "rig-token-never-in-a-plan"
EXTERNAL = ("home-k80", "home-radeon")
K80_ADDRESS = External("203.0.113.25")
OTHER_PUBLIC = External("198.51.100.40")
LAN = External("192.168.1.50")


def _names(run: Run, token: str) -> set[str]:
    return {inputs(r)["metadata"]["name"] for r in run.of_type(token)}


def _router(run: Run) -> dict[str, Any]:
    return one(run, "kubernetes:apps/v1:Deployment", name="ollama-fleet-router")


def test_nothing_runs_in_the_cluster_for_an_external_pool(hybrid: tuple[StackConfig, Run]) -> None:
    _, run = hybrid
    named = _names(run, "kubernetes:apps/v1:StatefulSet") | _names(run, "kubernetes:apps/v1:DaemonSet")
    named |= _names(run, "kubernetes:core/v1:Service")
    named |= {inputs(r).get("name", "") for r in run.of_type("gcp:container/nodePool:NodePool")}
    assert not any(pool in name for name in named for pool in EXTERNAL), named
    assert {"ollama-t4", "ollama-l4"} <= named
    assert set(run.outputs["pools"]["home-k80"]) == {"external", "models"}


def test_the_router_mounts_the_files_the_model_map_names(hybrid: tuple[StackConfig, Run]) -> None:
    stack, run = hybrid
    backends = {backend.name: backend for backend in derive_model_map(stack).backends}
    k80, radeon = backends["home-k80"], backends["home-radeon"]
    assert (k80.url, k80.external, k80.token_file) == ("https://203.0.113.25:11434", True, None)
    assert k80.ca_file == f"{UPSTREAM_DIR}/home-k80.ca.pem"
    assert (radeon.ca_file, radeon.token_file) == (None, None), "a public certificate: the system CAs verify it"
    secret = one(run, "kubernetes:core/v1:Secret", name=UPSTREAM_SECRET)
    pool = stack.pool("home-k80")
    assert pool is not None and pool.external is not None
    assert set(secret["stringData"]) == {"home-k80.ca.pem"}
    spec = pod_spec(_router(run))
    volume = next(v for v in spec["volumes"] if v.get("secret", {}).get("secretName") == UPSTREAM_SECRET)
    mount = next(m for m in containers(spec)["router"]["volumeMounts"] if m["name"] == volume["name"])
    assert (mount["mountPath"], mount["readOnly"]) == (UPSTREAM_DIR, True)


def test_a_token_goes_to_the_secret_and_nowhere_else() -> None:
    pools = file_value("hybrid", "pools")
    pools[3]["external"]["token"] = RIG_TOKEN
    stack, run = run_stack("hybrid", secret_keys=("ollama-fleet:pools",), pools=pools)
    secret = one(run, "kubernetes:core/v1:Secret", name=UPSTREAM_SECRET)
    assert secret["stringData"]["home-radeon.token"] == REDACTED
    radeon = next(b for b in derive_model_map(stack).backends if b.name == "home-radeon")
    assert radeon.token_file == f"{UPSTREAM_DIR}/home-radeon.token"
    model_map = one(run, "kubernetes:core/v1:ConfigMap", name="ollama-fleet-model-map")
    everything = json.dumps([inputs(r) for r in run.resources]) + yaml.safe_dump(run.outputs)
    assert RIG_TOKEN not in everything
    assert RIG_TOKEN not in json.dumps(model_map)


def test_the_router_reaches_each_external_port_and_nothing_more(hybrid: tuple[StackConfig, Run]) -> None:
    stack, run = hybrid
    w = world(stack, run)

    def expect(dst: External, port: int, allowed: bool, why: str) -> Expectation:
        return Expectation(w.router, dst, port, TCP, allowed, why)

    found = [
        expect(K80_ADDRESS, 11434, True, "the K80 rig, named by its address, on its port"),
        expect(K80_ADDRESS, 22, False, "only the rig's Ollama port"),
        expect(OTHER_PUBLIC, 11434, False, "an address is exactly that address"),
        expect(INTERNET, 443, True, "the Radeon rig is a DNS name: its port on public addresses"),
        expect(INTERNET, 80, False, "only that port"),
        expect(LAN, 443, False, "a DNS name never opens the private ranges"),
        expect(METADATA, 443, False, "nor the metadata server"),
    ]
    assert violations(w.cluster, found) == []
    for pool in w.pools.values():
        assert not w.cluster.allowed(pool, K80_ADDRESS, 11434), "the pools never reach the rigs"
