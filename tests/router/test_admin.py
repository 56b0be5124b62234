"""Admin endpoints: where they go, what they need, and Ollama's refusals (on sims of their own)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import ollama
import pytest

from ollama_sim import RunningSim, SimConfig, running_sim
from tests.router.harness import RunningRouter, model_map, running_router

ADMIN = {"authorization": "Bearer admin-key"}


@dataclass(frozen=True)
class AdminFleet:
    """Two sims that admin tests may change, and a router with an admin key."""

    a: RunningSim
    b: RunningSim
    router: RunningRouter

    def post(self, path: str, body: Any, **headers: str) -> httpx.Response:
        """A request with the admin key (``headers`` use ``_`` for ``-``)."""
        extra = {name.replace("_", "-"): value for name, value in headers.items()}
        method = "DELETE" if path == "/api/delete" else "POST"
        return httpx.request(method, self.router.url + path, json=body, headers={**ADMIN, **extra})


@pytest.fixture(scope="module")
def admin_fleet() -> Iterator[AdminFleet]:
    """Sims ``a`` (llama3.2:3b, shared:1b) and ``b`` (shared:1b); shared:1b is routed to both."""
    with (
        running_sim(SimConfig(name="a", models=("llama3.2:3b", "shared:1b"), tokens=5)) as a,
        running_sim(SimConfig(name="b", models=("shared:1b",), tokens=5)) as b,
    ):
        document = model_map({"a": a.url, "b": b.url}, {"llama3.2:3b": ["a"], "shared:1b": ["a", "b"]})
        with running_router(document, admin_keys=("admin-key",)) as router:
            yield AdminFleet(a, b, router)


@pytest.fixture
def fleet(admin_fleet: AdminFleet) -> AdminFleet:
    """The admin fleet with empty observations."""
    admin_fleet.a.observed.clear()
    admin_fleet.b.observed.clear()
    return admin_fleet


ADMIN_REFUSALS: list[tuple[str, dict[str, Any], int, str]] = [
    ("/api/pull", {}, 400, "invalid model name"),
    ("/api/pull", {"model": "bad name!"}, 400, "invalid model name"),
    ("/api/push", {}, 400, "model is required"),
    ("/api/create", {"from": "llama3.2:3b"}, 400, "invalid model name"),
    ("/api/copy", {"destination": "x"}, 400, 'source "" is invalid'),
    ("/api/copy", {"source": "nope:1b", "destination": "x"}, 404, 'model "nope:1b" not found'),
    ("/api/delete", {}, 400, 'name "" is invalid'),
    ("/api/delete", {"model": "nope:1b"}, 404, "model 'nope:1b' not found"),
]


@pytest.mark.parametrize(("path", "body", "status", "message"), ADMIN_REFUSALS)
def test_admin_refusals_use_ollamas_words(fleet: AdminFleet, path: str, body: Any, status: int, message: str) -> None:
    response = fleet.post(path, body)
    assert (response.status_code, response.json()) == (status, {"error": message})
    assert fleet.a.observed.requests == [] and fleet.b.observed.requests == []


def test_pulls_go_where_the_map_routes_the_model(fleet: AdminFleet) -> None:
    with ollama.Client(host=fleet.router.url, headers=ADMIN) as client:
        progress = list(client.pull("LLAMA3.2:3b", stream=True))
    assert progress[-1].status == "success"
    assert fleet.a.observed.paths() == ["/api/pull"] and fleet.b.observed.requests == []


def test_pulling_an_unrouted_model_needs_a_named_backend(fleet: AdminFleet) -> None:
    refused = fleet.post("/api/pull", {"model": "phi4:14b"})
    assert refused.status_code == 400
    assert "X-Fleet-Backend" in refused.json()["error"] and "one of: a, b" in refused.json()["error"]
    pulled = fleet.post("/api/pull", {"model": "phi4:14b", "stream": False}, x_fleet_backend="b")
    assert (pulled.status_code, pulled.headers["x-fleet-backend"]) == (200, "b")
    assert fleet.b.observed.paths() == ["/api/pull"] and fleet.a.observed.requests == []
    unknown = fleet.post("/api/pull", {"model": "phi4:14b"}, x_fleet_backend="zz")
    assert unknown.status_code == 400 and "unknown backend 'zz'" in unknown.json()["error"]


def test_delete_reaches_every_backend_of_the_route(fleet: AdminFleet) -> None:
    for name in ("a", "b"):
        copied = fleet.post("/api/copy", {"source": "shared:1b", "destination": "gone:1b"}, x_fleet_backend=name)
        assert copied.status_code == 200
    document = model_map({"a": fleet.a.url, "b": fleet.b.url}, {"gone:1b": ["a", "b"]})
    with running_router(document, admin_keys=("admin-key",)) as router:
        with ollama.Client(host=router.url, headers=ADMIN) as client:
            assert client.delete("gone:1b").status == "success"
        again = httpx.request("DELETE", router.url + "/api/delete", json={"model": "gone:1b"}, headers=ADMIN)
        assert again.status_code == 404 and again.json() == {"error": "model 'gone:1b' not found"}
    for sim in (fleet.a, fleet.b):
        assert sim.observed.paths()[-2:] == ["/api/delete", "/api/delete"]


def test_copy_goes_to_the_sources_backend(fleet: AdminFleet) -> None:
    response = fleet.post("/api/copy", {"source": "llama3.2:3b", "destination": "mine:1b"})
    assert (response.status_code, response.content, response.headers["x-fleet-backend"]) == (200, b"", "a")


def test_blob_uploads_stream_to_the_named_backend_without_a_body_limit(fleet: AdminFleet, tmp_path: Path) -> None:
    blob = tmp_path / "weights.gguf"
    blob.write_bytes(bytes(range(256)) * 8192)
    digest = "sha256:" + hashlib.sha256(blob.read_bytes()).hexdigest()
    document = model_map({"a": fleet.a.url, "b": fleet.b.url}, {"llama3.2:3b": ["a"]})
    with running_router(document, admin_keys=("admin-key",), max_body_bytes=1024) as router:
        no_backend = httpx.post(router.url + f"/api/blobs/{digest}", content=b"x", headers=ADMIN)
        assert no_backend.status_code == 400 and "X-Fleet-Backend" in no_backend.json()["error"]
        with ollama.Client(host=router.url, headers={**ADMIN, "X-Fleet-Backend": "b"}) as client:
            assert client.create_blob(blob) == digest
        head = httpx.head(router.url + f"/api/blobs/{digest}", headers={**ADMIN, "x-fleet-backend": "b"})
        assert (head.status_code, head.headers["x-fleet-backend"]) == (200, "b")
        missing = httpx.head(router.url + f"/api/blobs/{digest}", headers={**ADMIN, "x-fleet-backend": "a"})
        assert missing.status_code == 404
    uploads = [r for r in fleet.b.observed.requests if r.method == "POST"]
    assert len(uploads) == 1 and uploads[0].body == blob.read_bytes()


def test_create_on_a_named_backend(fleet: AdminFleet) -> None:
    body = {"model": "custom:1b", "from": "shared:1b", "stream": False}
    refused = fleet.post("/api/create", body)
    assert refused.status_code == 400 and "X-Fleet-Backend" in refused.json()["error"]
    created = fleet.post("/api/create", body, x_fleet_backend="b")
    assert (created.status_code, json.loads(created.content)) == (200, {"status": "success"})
    assert fleet.b.observed.paths() == ["/api/create"]


def test_modelless_admin_calls_need_a_backend_when_there_are_several(fleet: AdminFleet) -> None:
    refused = fleet.post("/api/me", {})
    assert refused.status_code == 400
    forwarded = fleet.post("/api/me", {}, x_fleet_backend="a")
    assert forwarded.headers["x-fleet-backend"] == "a"
    assert fleet.a.observed.paths() == ["/api/me"]
