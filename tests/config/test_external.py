"""External pools in the stack config: what is refused (with path and fix), and what the model map carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from config.derive import derive_model_map
from config.errors import ConfigError
from config.external import UPSTREAM_DIR
from config.loading import load_stack_file
from config.model_names import model_key
from tests.config.stacks import ROOT, accepted, at, refused, stack_data

TOKEN = "s3cret-rig-token"


def _hybrid(**external: Any) -> dict[str, Any]:
    """The hybrid stack with the Radeon rig's ``external`` keys replaced."""
    data = stack_data("hybrid")
    data["pools"][3]["external"] |= external
    return data


def test_the_hybrid_stack_routes_to_both_rigs_and_a_fallback() -> None:
    stack = accepted(stack_data("hybrid"))
    assert [pool.name for pool in stack.external_pools] == ["home-k80", "home-radeon"]
    assert [pool.name for pool in stack.cluster_pools] == ["t4", "l4"]
    routes = derive_model_map(stack).routes_by_key()
    assert [t.name for t in routes[model_key("llama3.2:3b")].backends] == ["t4", "home-k80"]
    assert [t.name for t in routes[model_key("mistral:7b")].backends] == ["home-radeon"]


@pytest.mark.parametrize(
    ("key", "value"),
    [("gpu", "nvidia-tesla-k80"), ("nodes", {"min": 0, "max": 1}), ("driver", "470.256.02"), ("ollama", {})],
)
def test_cluster_keys_in_an_external_pool_are_refused_by_path(key: str, value: Any) -> None:
    data = stack_data("hybrid")
    data["pools"][2][key] = value
    (problem,) = at(refused(data), f"pools[2].{key}")
    assert "external pool" in problem.message
    assert problem.fix == f"remove {key}, or remove external to run this pool in the cluster"


def test_a_token_in_clear_text_in_the_stack_file_is_refused(tmp_path: Path) -> None:
    document = yaml.safe_load((ROOT / "Pulumi.hybrid.yaml").read_text(encoding="utf-8"))
    document["config"]["ollama-fleet:pools"][3]["external"]["token"] = TOKEN
    path = tmp_path / "Pulumi.hybrid.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_stack_file(path)
    (problem,) = caught.value.problems
    assert problem.path == "pools[3].external.token"
    assert "clear text" in problem.message
    assert "pulumi config set --secret --path 'pools[3].external.token'" in problem.fix
    assert TOKEN not in str(caught.value)


def test_an_encrypted_token_is_accepted_and_never_shown() -> None:
    stack = accepted(_hybrid(token={"secure": "v1:AAAA"}))
    external = stack.pools[3].external
    assert external is not None and external.token is not None
    assert external.token.ciphertext == "v1:AAAA"
    assert TOKEN not in repr(accepted(_hybrid(token=TOKEN)))


@pytest.mark.parametrize("url", ["http://radeon.home.example.org:11434", "http://203.0.113.40:11434", "http://8.8.8.8"])
def test_a_token_over_plain_http_to_a_public_or_named_host_is_refused(url: str) -> None:
    (problem,) = at(refused(_hybrid(url=url, token=TOKEN)), "pools[3].external.url")
    assert "clear text" in problem.message
    assert problem.fix.startswith("use https://")


@pytest.mark.parametrize("host", ["192.168.1.50", "10.1.2.3", "100.101.102.103", "[fd7a:115c:a1e0::1]"])
def test_a_token_over_plain_http_to_a_private_address_is_accepted(host: str) -> None:
    """A LAN (RFC 1918, IPv6 unique local) or a carrier-grade NAT range such as Tailscale's (RFC 6598)."""
    accepted(_hybrid(url=f"http://{host}:11434", token=TOKEN))


def test_a_ca_bundle_needs_https_and_pem_text() -> None:
    pem = stack_data("hybrid")["pools"][2]["external"]["caBundle"]
    (problem,) = at(refused(_hybrid(url="http://192.168.1.50:11434", caBundle=pem)), "pools[3].external.caBundle")
    assert problem.fix == "use an https:// URL, or remove caBundle"
    (problem,) = at(refused(_hybrid(caBundle="not a certificate")), "pools[3].external.caBundle")
    assert "PEM" in problem.message


def test_a_route_to_an_external_pool_must_name_one_of_its_models() -> None:
    data = stack_data("hybrid")
    data["routes"].append({"model": "gemma3:12b", "backends": ["l4", "home-radeon"]})
    (problem,) = at(refused(data), "routes[2].backends[1]")
    assert problem.message == "pool 'home-radeon' does not serve 'gemma3:12b'"
    assert problem.fix.startswith("add it to pools[3].external.models")


def test_the_model_map_names_the_token_file_never_the_token() -> None:
    stack = accepted(_hybrid(token=TOKEN))
    document = derive_model_map(stack)
    radeon = next(backend for backend in document.backends if backend.name == "home-radeon")
    assert radeon.token_file == f"{UPSTREAM_DIR}/home-radeon.token"
    assert radeon.external and radeon.ca_file is None
    assert TOKEN not in document.to_json()
