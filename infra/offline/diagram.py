"""A picture of the fleet for ``summary.md``: aliases → models → pools, each pool with its GPU and driver.

A Mermaid flowchart (https://mermaid.js.org/syntax/flowchart.html), which GitHub renders in Markdown. Node
ids are generated (``m0``, ``p1``, ...) so no model or pool name can clash with Mermaid's syntax or
keywords (``llama3.2:3b``, ``end``); names appear only in quoted labels, with quotes and angle brackets
written as Mermaid entity codes.
"""

from __future__ import annotations

from config.derive import derive_model_map
from config.gpu_catalog import gpu_info
from config.model_map import RouteTarget
from config.model_names import model_key
from config.stack import PoolSpec, StackConfig

_ENTITIES = {'"': "#quot;", "<": "#lt;", ">": "#gt;"}


def label(*lines: str) -> str:
    """A quoted Mermaid label: each line escaped, joined by line breaks."""
    escaped = ("".join(_ENTITIES.get(char, char) for char in line) for line in lines)
    return '"' + "<br/>".join(escaped) + '"'


def _pool_lines(stack: StackConfig, pool: PoolSpec) -> list[str]:
    if pool.external is not None:
        return [f"pool {pool.name}", f"external: {pool.external.url}"]
    if pool.gpu is None:
        gpu = "CPU only"
    else:
        info = gpu_info(pool.gpu)
        gpu = f"{pool.gpus_per_node} × {info.name if info else pool.gpu}"
    lines = [f"pool {pool.name}", gpu]
    if stack.is_gke:
        lines.append(f"{pool.effective_machine_type or 'machine type from the catalog'}, {pool.node_image}")
    if pool.driver is not None:
        lines.append(f"driver {pool.driver}" + ("" if stack.is_gke else " (host)"))
    lines.append(f"{pool.ollama.replicas} × Ollama")
    return lines


def _edge(model: str, pool: str, target: RouteTarget, ranks: int, shared: bool) -> str:
    text = f"p{target.priority}" if ranks > 1 else ""
    if shared:
        text = f"{text} w{target.weight:g}".strip()
    arrow = "-->" if target.priority == 0 else "-.->"
    return f"    {model} {arrow}|{label(text)}| {pool}" if text else f"    {model} {arrow} {pool}"


def fleet_mermaid(stack: StackConfig) -> list[str]:
    """The flowchart's lines, fenced as a ``mermaid`` code block."""
    document = derive_model_map(stack)
    pools = {pool.name: f"p{index}" for index, pool in enumerate(stack.pools)}
    models = {model_key(route.model): f"m{index}" for index, route in enumerate(document.routes)}
    lines = ["```mermaid", "flowchart LR"]
    lines += [f"    {alias_id}([{label('alias ' + alias)}])" for alias_id, alias in _aliases(document.aliases)]
    lines += [f"    {models[model_key(route.model)]}[{label(route.model)}]" for route in document.routes]
    lines += [f"    {pools[pool.name]}[[{label(*_pool_lines(stack, pool))}]]" for pool in stack.pools]
    for index, aliased in enumerate(document.aliases.values()):
        lines.append(f"    a{index} --> {models[model_key(aliased)]}")
    for route in document.routes:
        ranks = len({target.priority for target in route.backends})
        for target in route.backends:
            shared = sum(1 for other in route.backends if other.priority == target.priority) > 1
            lines.append(_edge(models[model_key(route.model)], pools[target.name], target, ranks, shared))
    if document.default_backend:
        lines.append(f"    d0([{label('any other model')}]) -.-> {pools[document.default_backend]}")
    return [*lines, "```"]


def _aliases(aliases: dict[str, str]) -> list[tuple[str, str]]:
    return [(f"a{index}", alias) for index, alias in enumerate(aliases)]


def fleet_section(stack: StackConfig) -> list[str]:
    """The summary's "Fleet" section: a heading, the diagram, and how to read it."""
    return [
        "## Fleet",
        "",
        *fleet_mermaid(stack),
        "",
        "Solid arrows are first choices, dotted ones fallbacks (`p` priority, lower first; `w` weight, the "
        "share of traffic among pools of one priority).",
        "",
    ]
