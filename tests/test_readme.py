"""The README stays a front door: short, starting with the two commands that work anywhere, leading to
every reference page, and accounting for every package the project pins."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_BYTES = 14 * 1024
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", re.M)


def readme() -> str:
    return README.read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The body of the README's ``## heading`` section, up to the next ``## ``."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_readme_stays_short() -> None:
    size = len(README.read_bytes())
    assert size < MAX_BYTES, f"README.md is {size} bytes; move reference text under docs/ (limit {MAX_BYTES})"


def test_the_first_commands_shown_are_demo_then_test() -> None:
    shell = next(body for lang, body in FENCE.findall(readme()) if lang in ("bash", "sh"))
    commands = [line.split("#", 1)[0].strip() for line in shell.splitlines() if line.strip()]
    assert commands[:2] == ["make demo", "make test"]


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = set(re.findall(r"\]\((docs/[^)#\s]+\.md)(?:#[^)]*)?\)", readme()))
    pages = {page.relative_to(ROOT).as_posix() for page in (ROOT / "docs").rglob("*.md")}
    assert pages - linked == set(), "link these pages from README.md's Documentation table"


def test_every_pinned_package_has_a_reason_in_the_readme() -> None:
    table = section(readme(), "Dependencies and why").lower()
    named = {
        cell for row in table.splitlines() if row.startswith("| ") for cell in re.split(r"[ ,()]+", row.split("|")[1])
    }
    pinned = {name.lower() for name in PIN.findall((ROOT / "requirements.txt").read_text(encoding="utf-8"))}
    assert pinned - named == set(), "add a row to README.md's 'Dependencies and why' for these packages"
