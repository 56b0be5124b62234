"""docs/configuration.md is the models' own account of every key, so it cannot drift from the validator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from config.cli import main
from config.reference import configuration_markdown, rows
from config.stack import StackConfig
from tests.config.stacks import ROOT

PAGE = ROOT / "docs" / "configuration.md"


def _paths(value: Any, prefix: str) -> list[str]:
    """Every key path a stack file sets, in the page's notation (``pools[].ollama.models``)."""
    if isinstance(value, dict) and not set(value) <= {"secure"}:
        return [p for key, item in value.items() for p in [f"{prefix}.{key}", *_paths(item, f"{prefix}.{key}")]]
    if isinstance(value, list):
        return [p for item in value for p in _paths(item, f"{prefix}[]")]
    return []


def test_the_committed_page_is_current() -> None:
    assert PAGE.read_text(encoding="utf-8") == configuration_markdown(), "run `make docs` and commit the page"


@pytest.mark.parametrize("stack", ["dev", "home", "hybrid"])
def test_every_key_a_committed_stack_sets_is_documented(stack: str) -> None:
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))["config"]
    page = configuration_markdown()
    keys = [p for key, value in config.items() for p in [key, *_paths(value, key)]]
    maps = [line.split("`")[1] for line in page.splitlines() if line.startswith("| `") and "| map of " in line]
    keys = [key for key in keys if not any(key.startswith(f"{parent}.") for parent in maps)]  # user's own keys
    missing = [key for key in keys if f"| `{key}` |" not in page]
    assert missing == []


def test_every_key_says_what_it_is_for() -> None:
    undocumented = [row.key for row in rows(StackConfig) if not row.description]
    assert undocumented == [], "add a description= to these fields"


def test_defaults_are_the_ones_the_validator_applies() -> None:
    page = configuration_markdown()
    assert '| `ollama-fleet:pools[].ollama.storage` | string | `"100Gi"` |' in page
    assert "| `ollama-fleet:cluster.systemPool.nodes.max` | integer (≥ 1) | `3` |" in page
    assert "| `ollama-fleet:pools` | list of mapping (at least 1 long) | *required* |" in page
    assert "| `ollama-fleet:router.apiKeys` | secret: comma-separated keys | *unset* |" in page


def test_docs_check_fails_on_a_stale_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text(configuration_markdown().replace("100Gi", "50Gi"), encoding="utf-8")
    assert main(["docs", "--check", str(stale)]) == 1
    assert "make docs" in capsys.readouterr().err
    assert main(["docs", str(stale)]) == 0
    assert main(["docs", "--check", str(stale)]) == 0
