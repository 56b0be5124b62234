"""Write a :class:`~config.discovery.propose.Proposal` as a stack file, with its facts and to-dos as comments."""

from __future__ import annotations

from typing import Any

import yaml

from config.discovery.propose import Proposal
from config.loading import PROJECT

SCHEMA_LINE = "# yaml-language-server: $schema=schema/pulumi-stack.schema.json"


def _dump(value: Any, indent: int) -> list[str]:
    text = yaml.safe_dump(value, default_flow_style=False, sort_keys=False, width=120)
    return [" " * indent + line for line in text.splitlines()]


def _comments(lines: list[str], indent: int) -> list[str]:
    return [" " * indent + f"# {line}" for line in lines]


def todo_list(proposal: Proposal) -> list[str]:
    """Everything the user must still choose, the stack's first, each pool's prefixed with its name."""
    items = list(proposal.todo)
    for pool in proposal.pools:
        items += [f"pool {pool.spec['name']}: {item}" for item in pool.todo]
    return items


def render(proposal: Proposal) -> str:
    """The stack file text: valid YAML whose comments say where each pool came from and what is left."""
    lines = [SCHEMA_LINE, f"# Proposed by `python -m config discover` from {proposal.source}."]
    todo = todo_list(proposal)
    if todo:
        lines += ["# TO CHOOSE (the nodes could not tell):"]
        lines += _comments([f"  - {item}" for item in todo], 0)
    if proposal.refused:
        lines.append("# `python -m config check` refuses this file until every (required) choice is made.")
    else:
        lines.append("# `python -m config check` accepts this file as written.")
    lines.append("config:")
    for key, value in proposal.values.items():
        if key != "pools":
            lines += _dump({f"{PROJECT}:{key}": value}, 2)
            continue
        lines.append(f"  {PROJECT}:pools:")
        for pool in proposal.pools:
            lines += _comments(pool.facts, 4)
            lines += _comments([f"TO CHOOSE: {item}" for item in pool.todo], 4)
            lines += _dump([pool.spec], 4)
    return "\n".join(lines) + "\n"
