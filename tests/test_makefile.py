"""``make`` alone explains itself: every target has one help line, and first installs say what they cost."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def _phony() -> set[str]:
    joined = MAKEFILE.replace("\\\n", " ")
    match = re.search(r"^\.PHONY:(.*)$", joined, re.M)
    assert match, "the Makefile declares no .PHONY targets"
    return set(match[1].split())


def _documented() -> dict[str, str]:
    return dict(re.findall(r"^([a-z][-a-z]*):[^#\n]*## (.+)$", MAKEFILE, re.M))


def test_every_phony_target_has_a_help_line_and_nothing_else_does() -> None:
    documented = _documented()
    assert sorted(_phony() - documented.keys()) == [], "add a `## what it does` comment after these targets"
    assert sorted(documented.keys() - _phony()) == [], "documented targets missing from .PHONY"
    assert all(len(text) <= 100 for text in documented.values()), "keep each help line to one short line"


def test_make_alone_prints_every_target_with_its_line() -> None:
    result = subprocess.run(["make", "--no-print-directory"], cwd=ROOT, capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    for target, text in _documented().items():
        assert any(line.split(None, 1) == [target, text] for line in lines), f"make help lost {target}"


def test_every_first_install_says_what_it_installs_and_how_long() -> None:
    for stamp in ("$(STAMP):", "$(CHECKOV_STAMP):", "$(NODE_STAMP):"):
        recipe = MAKEFILE.split(f"\n{stamp}", 1)[1].split("\n\n", 1)[0]
        first = recipe.splitlines()[1].strip()
        assert first.startswith('@echo "Installing ') and "about $(" in first, f"{stamp} {first}"
