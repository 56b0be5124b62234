"""The model map is one swappable reference; backends that survive a swap keep their pools and counts."""

from __future__ import annotations

from pathlib import Path

from config.model_map import parse_model_map
from router.runtime.settings import RouterSettings
from router.runtime.state import FleetState


def _doc(l4_url: str) -> dict[str, object]:
    return {
        "backends": [{"name": "t4", "url": "http://t4:11434"}, {"name": "l4", "url": l4_url}],
        "routes": [{"model": "llama3.2", "backends": ["t4"]}],
    }


def test_swapping_the_map_keeps_unchanged_backends_and_reports_the_rest() -> None:
    state = FleetState(RouterSettings(model_map=Path("m")), parse_model_map(_doc("http://l4:11434")))
    t4, l4 = state.backend("t4"), state.backend("l4")
    assert t4 is not None and l4 is not None
    t4.in_flight = 2
    old_version = state.table.version
    added, removed = state.swap_map(parse_model_map(_doc("http://l4-new:11434")))
    assert state.backend("t4") is t4 and t4.in_flight == 2
    assert removed == [l4] and added == [state.backend("l4")] and state.backend("l4") is not l4
    assert l4.replicas[0].pool.retired, "a backend that left the map takes no new request"
    assert state.table.version != old_version
    assert state.status()["model_map_version"] == state.table.version
