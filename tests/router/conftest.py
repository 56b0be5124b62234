"""Shared fixtures: two simulated Ollama pools (t4, l4) and a router in front of them.

The sims and the default router live for the whole session (starting them is the slow part); every test
starts with both sims up, no faults, and empty observations. Tests that need other router settings
(keys, short timeouts) start their own router on the same sims with :func:`fleet_router`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import pytest

from ollama_sim import RunningSim, SimConfig, running_sim
from tests.router.harness import RunningRouter, model_map, running_router

T4_MODELS = ("llama3.2:latest", "llama3.2:3b", "qwen2.5:7b", "phi3:mini")
L4_MODELS = ("qwen2.5:7b", "mistral:7b", "hf.co/acme/tiny:Q4_K_M")
ROUTES: dict[str, list[Any]] = {
    "llama3.2": ["t4"],
    "llama3.2:3b": ["t4"],
    "qwen2.5:7b": ["l4", "t4"],
    "mistral:7b": ["l4"],
    "hf.co/acme/tiny:Q4_K_M": ["l4"],
}
ALIASES = {"chat": "llama3.2:3b"}


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of the one slow test (it builds a fresh virtualenv)."""
    config.addinivalue_line("markers", "fresh_venv: builds a fresh venv from router/requirements.txt (~20 s+)")


@dataclass(frozen=True)
class Fleet:
    """Two sims and the session's router in front of them."""

    t4: RunningSim
    l4: RunningSim
    router: RunningRouter

    @property
    def url(self) -> str:
        """The router's base URL."""
        return self.router.url

    def document(self, **extra: Any) -> dict[str, Any]:
        """The model map of this fleet, with ``extra`` top-level keys."""
        return model_map({"t4": self.t4.url, "l4": self.l4.url}, ROUTES, aliases=ALIASES, **extra)


@pytest.fixture(scope="session")
def sims() -> Iterator[tuple[RunningSim, RunningSim]]:
    """The two simulated pools for the session."""
    with (
        running_sim(SimConfig(name="t4", models=T4_MODELS, tokens=20, version="0.32.15")) as t4,
        running_sim(SimConfig(name="l4", models=L4_MODELS, tokens=20, version="0.12.3")) as l4,
    ):
        yield t4, l4


@pytest.fixture(scope="session")
def session_router(sims: tuple[RunningSim, RunningSim]) -> Iterator[RunningRouter]:
    """The default router: no keys, no listing cache."""
    t4, l4 = sims
    document = model_map({"t4": t4.url, "l4": l4.url}, ROUTES, aliases=ALIASES)
    with running_router(document) as router:
        yield router


@pytest.fixture
def fleet(sims: tuple[RunningSim, RunningSim], session_router: RunningRouter) -> Fleet:
    """A clean fleet: both sims listening, no faults, nothing observed yet."""
    for sim in sims:
        sim.start()
        sim.faults.clear()
        sim.observed.clear()
    for backend in session_router.state.backends.by_name.values():
        for replica in backend.replicas:
            replica.reset()
    return Fleet(sims[0], sims[1], session_router)


def fleet_router(fleet: Fleet, **overrides: Any) -> AbstractContextManager[RunningRouter]:
    """Another router on the same sims, with other settings (``document=`` replaces the map)."""
    document = overrides.pop("document", None) or fleet.document()
    return running_router(document, **overrides)
