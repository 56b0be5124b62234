"""Every relative link in README.md and docs/ leads somewhere: to a file that exists, and a heading in it."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.M)
HREF = re.compile(r"<a\s[^>]*href=\"([^\"]+)\"")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # https:, mailto:, ...
FENCED = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.M | re.S)


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def prose(text: str) -> str:
    """The text without fenced code blocks and inline code, where brackets are not links."""
    return re.sub(r"(`+).+?\1", "", FENCED.sub("", text), flags=re.S)


def anchors(page: Path) -> set[str]:
    """The anchors GitHub gives the page's headings: lowercase, punctuation dropped, spaces as '-', -1 for repeats."""
    seen: dict[str, int] = {}
    found = set()
    text = page.read_text(encoding="utf-8")
    for heading in re.findall(r"^ {0,3}#{1,6}\s+(.+?)\s*#*\s*$", FENCED.sub("", text), re.M):  # not '# comments'
        slug = re.sub(r"[^\w\- ]", "", heading.replace("`", "").lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found | set(re.findall(r"<a\s[^>]*(?:name|id)=\"([^\"]+)\"", text))


def broken_links(page: Path) -> list[str]:
    """Every relative link of ``page`` whose file or ``#anchor`` does not exist, as ``page: target (why)``."""
    text = prose(page.read_text(encoding="utf-8"))
    targets = INLINE.findall(text) + DEFINITION.findall(text) + HREF.findall(text)
    problems = []
    for target in targets:
        if EXTERNAL.match(target) or target.startswith("//"):
            continue
        path_part, _, anchor = target.partition("#")
        file = (page.parent / unquote(path_part)).resolve() if path_part else page
        where = f"{page.relative_to(ROOT)}: {target}"
        if not file.exists():
            problems.append(f"{where} (no such file)")
        elif ROOT not in file.parents and file != ROOT:
            problems.append(f"{where} (outside the repository)")
        elif anchor and (file.suffix != ".md" or unquote(anchor).lower() not in anchors(file)):
            problems.append(f"{where} (no such heading)")
    return problems


@pytest.mark.parametrize("page", pages(), ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_the_checker_finds_what_is_broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "other.md").write_text("# Other page\n\n## `make plan STACK=dev`\n", encoding="utf-8")
    page = tmp_path / "README.md"
    page.write_text(
        "# Top\n\n## Keys and values\n\n"
        "[ok](docs/other.md) [ok](docs/other.md#make-plan-stackdev) [ok](#keys-and-values) [ok](https://x.org/a)\n"
        "[gone](docs/missing.md) [bad](docs/other.md#nowhere) [bad](#top-2)\n"
        "`[in code](nowhere.md)`\n\n```\n[in a block](nowhere.md)\n```\n\n[ref]: docs/absent.md\n",
        encoding="utf-8",
    )
    assert broken_links(page) == [
        "README.md: docs/missing.md (no such file)",
        "README.md: docs/other.md#nowhere (no such heading)",
        "README.md: #top-2 (no such heading)",
        "README.md: docs/absent.md (no such file)",
    ]
