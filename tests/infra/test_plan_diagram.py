"""The plan's fleet diagram: every route, alias and pool of a stack, in Mermaid that parses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from config.derive import derive_model_map
from config.loading import load_stack_file
from config.stack import StackConfig
from infra.offline import plan
from infra.offline.diagram import fleet_mermaid, label
from tests.config.stacks import accepted, stack_data
from tests.infra.fleet import ROOT

NODE_ID = r"[a-z][0-9]+"
LABEL = r'"(?:[^"<>]|<br/>)*"'
NODE = re.compile(rf"^    ({NODE_ID})(?:\(\[{LABEL}\]\)|\[\[{LABEL}\]\]|\[{LABEL}\])$")
EDGE = re.compile(rf"^    ({NODE_ID})(?:\(\[{LABEL}\]\))? (?:-->|-\.->)(?:\|{LABEL}\|)? ({NODE_ID})$")


def _labels(lines: list[str]) -> str:
    return "\n".join(re.findall(r'"([^"]*)"', "\n".join(lines))).replace("<br/>", "\n")


def check_mermaid(lines: list[str]) -> None:
    """What can be checked offline: the fence, one node or edge per line, every edge between defined nodes."""
    assert lines[:2] == ["```mermaid", "flowchart LR"] and lines[-1] == "```"
    defined: set[str] = set()
    for line in lines[2:-1]:
        node, edge = NODE.match(line), EDGE.match(line)
        assert node or edge, f"not a node or an edge: {line!r}"
        if node:
            assert node[1] not in defined, f"node {node[1]} defined twice"
            defined.add(node[1])
        elif edge:
            if "([" in line:
                defined.add(edge[1])
            assert {edge[1], edge[2]} <= defined, f"edge before its nodes: {line!r}"


@pytest.mark.parametrize("name", ["dev", "home"])
def test_the_diagram_names_every_route_alias_and_pool(name: str) -> None:
    stack = load_stack_file(ROOT / f"Pulumi.{name}.yaml")
    lines = fleet_mermaid(stack)
    check_mermaid(lines)
    text = _labels(lines)
    document = derive_model_map(stack)
    assert all(f"\n{route.model}\n" in f"\n{text}\n" for route in document.routes)
    assert all(f"alias {alias}" in text for alias in document.aliases)
    for pool in stack.pools:
        assert f"pool {pool.name}" in text
        assert pool.driver is None or f"driver {pool.driver}" in text
        assert not stack.is_gke or pool.node_image in text
    edges = sum(1 for line in lines if "->" in line)
    aliases, default = len(document.aliases), 1 if document.default_backend else 0
    assert edges == aliases + sum(len(route.backends) for route in document.routes) + default


def test_fallbacks_are_dotted_and_shared_routes_show_their_weights() -> None:
    lines = fleet_mermaid(load_stack_file(ROOT / "Pulumi.dev.yaml"))
    assert '    m1 -->|"p0"| p0' in lines and '    m1 -.->|"p1"| p1' in lines  # qwen2.5:7b: t4, then l4
    assert '    m0 -->|"w3"| p0' in lines and '    m0 -->|"w1"| p1' in lines  # llama3.2:3b: 3 to 1


def test_the_default_pool_takes_any_other_model() -> None:
    data = stack_data()
    data["defaultPool"] = "cpu"
    lines = fleet_mermaid(accepted(data))
    check_mermaid(lines)
    assert '    d0(["any other model"]) -.-> p3' in lines


def test_labels_cannot_break_out_of_their_quotes() -> None:
    assert label('say "hi"', "<b>x</b>") == '"say #quot;hi#quot;<br/>#lt;b#gt;x#lt;/b#gt;"'


def test_the_plan_summary_carries_the_diagram(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert plan.main(["--stack", "home", "--out", str(tmp_path)]) == 0
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    stack: StackConfig = load_stack_file(ROOT / "Pulumi.home.yaml")
    assert "\n".join(fleet_mermaid(stack)) in summary
