"""The routing table: Ollama's name rules, aliases, the default backend."""

from __future__ import annotations

import pytest

from config.model_map import parse_model_map
from config.model_names import InvalidModelNameError
from router.balancing.routing_table import UNROUTED, RoutingTable

DOC = {
    "backends": [{"name": "t4", "url": "http://t4:11434"}, {"name": "l4", "url": "http://l4:11434"}],
    "routes": [{"model": "llama3.2", "backends": ["t4", "l4"]}, {"model": "hf.co/u/m:Q4", "backends": ["l4"]}],
    "aliases": {"chat": "llama3.2"},
}


@pytest.mark.parametrize(
    "name", ["llama3.2", "llama3.2:latest", "LLAMA3.2:Latest", "registry.ollama.ai/library/llama3.2", " llama3.2 "]
)
def test_spellings_of_one_model_share_a_route(name: str) -> None:
    resolution = RoutingTable(parse_model_map(DOC)).resolve(name)
    assert resolution is not None
    assert resolution.model == "llama3.2:latest" and resolution.rewrite is None
    assert [t.name for t in resolution.targets] == ["t4", "l4"]


def test_aliases_resolve_to_their_target_and_ask_for_a_rewrite() -> None:
    resolution = RoutingTable(parse_model_map(DOC)).resolve("Chat")
    assert resolution is not None and resolution.rewrite == "llama3.2:latest"


def test_unknown_models_are_none_without_a_default_backend() -> None:
    table = RoutingTable(parse_model_map(DOC))
    assert table.resolve("qwen2.5:7b") is None
    assert table.resolve("hf.co/u/m:q4") is not None
    with pytest.raises(InvalidModelNameError):
        table.resolve("bad name!")


def test_the_default_backend_takes_unknown_models() -> None:
    table = RoutingTable(parse_model_map({**DOC, "default_backend": "l4"}))
    resolution = table.resolve("qwen2.5:7b")
    assert resolution is not None and resolution.model == UNROUTED
    assert [t.name for t in resolution.targets] == ["l4"]
    assert table.backend_names == ["t4", "l4"]
