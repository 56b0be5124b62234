"""The import directions: config <- infra, config <- router, config <- ollama_sim <- kube_sim.

The router never imports Pulumi or infra; the simulated Ollama (``ollama_sim``) is a test double that imports
``config`` at most, and the router and the simulator never import each other. The Kubernetes API double
(``kube_sim``) imports ``config`` and ``ollama_sim`` at most, and the router never imports it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "config": {"pulumi", "pulumi_gcp", "pulumi_kubernetes", "pulumi_docker_build", "pulumi_random"}
    | {"starlette", "httpx", "uvicorn", "infra", "router"},
    "router": {"pulumi", "pulumi_gcp", "pulumi_kubernetes", "pulumi_docker_build", "pulumi_random", "infra"},
    "infra": {"router", "starlette", "uvicorn", "ollama_sim", "kube_sim"},
    "kube_sim": {"pulumi", "pulumi_gcp", "pulumi_kubernetes", "pulumi_docker_build", "pulumi_random"}
    | {"infra", "router", "lightkube"},
}
FORBIDDEN["router"] |= {"ollama_sim", "kube_sim"}
FORBIDDEN["ollama_sim"] = {"kube_sim"}
FIRST_PARTY = {"config", "infra", "router", "ollama_sim", "kube_sim", "bench", "scripts", "tests", "tools"}
SIM_THIRD_PARTY = {"httptools", "uvloop"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_its_layer_allows(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}" for path in files for name in _imports(path) & FORBIDDEN[package]
    }
    assert not offenders, sorted(offenders)


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import pulumi_gcp.container\nfrom infra.gcp.cluster import Cluster\nfrom . import sibling\n")
    assert _imports(sample) == {"pulumi_gcp", "infra"}


def test_the_simulator_imports_config_at_most() -> None:
    files = sorted((ROOT / "ollama_sim").rglob("*.py"))
    assert files, "ollama_sim/ has no modules"
    allowed = {"config", "ollama_sim"} | SIM_THIRD_PARTY
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in _imports(path)
        if name not in allowed and (name in FIRST_PARTY or name not in sys.stdlib_module_names)
    }
    assert not offenders, sorted(offenders)


def test_the_kubernetes_double_imports_config_and_the_simulator_at_most() -> None:
    files = sorted((ROOT / "kube_sim").rglob("*.py"))
    assert files, "kube_sim/ has no modules"
    offenders = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in _imports(path) & FIRST_PARTY
        if name not in {"config", "ollama_sim", "kube_sim"}
    }
    assert not offenders, sorted(offenders)


ROOMS: dict[str, set[str]] = {
    "upstream": set(),
    "telemetry": set(),
    "edge": {"telemetry"},
    "balancing": {"upstream", "telemetry"},
    "endpoints": {"edge", "balancing", "upstream", "telemetry"},
    "runtime": {"edge", "endpoints", "balancing", "upstream", "telemetry"},
}
"""Each room of the router and the rooms it may import (the module ``router.refusal`` is open to all).

A request walks edge -> endpoints -> balancing -> upstream; imports point the same way, except that
handlers import the edge's context and responses, and the edge reaches handlers only through the route
table the runtime hands it.
"""


def _router_rooms(path: Path) -> set[str]:
    """The rooms (``router.<room>``) a module imports, counting ``router.refusal`` as no room."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found |= {name.split(".")[1] for name in names if name.startswith("router.") and name != "router.refusal"}
    return found


def test_every_router_module_lives_in_a_room() -> None:
    loose = {path.name for path in (ROOT / "router").glob("*.py")} - {"__init__.py", "__main__.py", "refusal.py"}
    rooms = {path.name for path in (ROOT / "router").iterdir() if (path / "__init__.py").exists()}
    assert not loose, f"modules outside every room: {sorted(loose)}"
    assert rooms == set(ROOMS), "a room was added or removed: state what it may import in ROOMS"


@pytest.mark.parametrize("room", sorted(ROOMS))
def test_each_room_imports_only_the_rooms_it_may(room: str) -> None:
    allowed = ROOMS[room] | {room}
    offenders = {
        f"{path.relative_to(ROOT)} imports router.{name}"
        for path in sorted((ROOT / "router" / room).rglob("*.py"))
        for name in _router_rooms(path) - allowed
    }
    assert not offenders, sorted(offenders)


def test_each_room_says_what_it_owns_and_may_import() -> None:
    for room in ROOMS:
        doc = ast.get_docstring(ast.parse((ROOT / "router" / room / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "May import" in doc, f"router/{room}/__init__.py must say what it owns and may import"


def test_the_room_checker_sees_a_backward_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from router.runtime.state import FleetState\nimport router.refusal\nfrom . import sibling\n")
    assert _router_rooms(sample) == {"runtime"}
