"""infra/ by kind: each room says what it owns, and no component depends on the offline plan harness."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
ROOMS = {"gcp", "drivers", "k8s", "workloads", "offline"}
LOOSE = {"__init__.py", "program.py", "stack_config.py"}
"""The composition root and the stack's config reader stay at the top; every other module lives in a room."""


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return found


def test_every_infra_module_lives_in_a_room_that_says_what_it_owns() -> None:
    rooms = {path.name for path in INFRA.iterdir() if (path / "__init__.py").is_file()}
    assert rooms == ROOMS, "a room was added or removed: name it in ROOMS"
    assert {path.name for path in INFRA.glob("*.py")} == LOOSE, "modules outside every room"
    for room in sorted(ROOMS):
        doc = ast.get_docstring(ast.parse((INFRA / room / "__init__.py").read_text(encoding="utf-8")))
        assert doc, f"infra/{room}/__init__.py must say what the room owns"


def test_no_component_imports_the_offline_harness() -> None:
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted(INFRA.rglob("*.py"))
        if "offline" not in path.relative_to(INFRA).parts
        for name in _imported_modules(path)
        if name == "infra.offline" or name.startswith("infra.offline.")
    }
    assert not offenders, sorted(offenders)


def test_the_checker_sees_an_import_of_the_harness(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from infra.offline.mocks import Run\nfrom infra import offline\n", encoding="utf-8")
    assert {"infra.offline.mocks", "infra.offline"} <= _imported_modules(sample)
