"""docs/gpu-catalog.md's table is the catalog itself, so the documentation cannot drift from the validator."""

from __future__ import annotations

from config.cli import main
from config.gpu_catalog import catalog_markdown
from tests.config.stacks import ROOT

START, END = "<!-- gpu-catalog:start -->\n", "<!-- gpu-catalog:end -->"


def test_catalog_page_carries_the_current_gpu_catalog() -> None:
    page = (ROOT / "docs" / "gpu-catalog.md").read_text(encoding="utf-8")
    assert START in page and END in page, "docs/gpu-catalog.md lost its gpu-catalog markers"
    table = page.split(START, 1)[1].split(END, 1)[0]
    assert table.strip() == catalog_markdown().strip(), (
        "run `.venv/bin/python -m config catalog` and paste it into docs/gpu-catalog.md"
    )


def test_catalog_command_prints_every_gpu(capsys: object) -> None:
    assert main(["catalog"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "`nvidia-tesla-k80`" in out and "`nvidia-h200-141gb`" in out
