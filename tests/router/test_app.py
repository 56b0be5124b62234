"""The application is composed, not a Starlette subclass: Starlette API it would ignore is simply not there."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.model_map import parse_model_map
from router.edge.access import Access
from router.edge.routes import GET_HEAD
from router.endpoints.routes import fleet_routes
from router.runtime.app import create_app
from router.runtime.settings import RouterSettings

DOCUMENT = {"backends": [{"name": "t4", "url": "http://t4:11434"}]}


@pytest.mark.parametrize(
    "name", ["add_middleware", "exception_handlers", "add_exception_handler", "add_route", "mount", "middleware"]
)
def test_starlette_api_the_router_would_ignore_fails_loudly(name: str) -> None:
    app = create_app(RouterSettings(model_map=Path("m")), parse_model_map(DOCUMENT))
    with pytest.raises(AttributeError):
        getattr(app, name)


def test_each_route_carries_its_methods_and_access() -> None:
    app = create_app(RouterSettings(model_map=Path("m")), parse_model_map(DOCUMENT))
    routes = fleet_routes(app.fleet)
    tags, ps, delete = routes.match("/api/tags"), routes.match("/api/ps"), routes.match("/api/delete")
    assert tags is not None and (tags.methods, tags.access) == (GET_HEAD, Access.USER)
    assert ps is not None and ps.allows("GET") and not ps.allows("HEAD"), "Ollama answers HEAD /api/ps with 405"
    assert delete is not None and (delete.methods, delete.access) == (frozenset({"DELETE"}), Access.ADMIN)
    blob = routes.match("/api/blobs/sha256:abc")
    assert blob is not None and blob.access is Access.ADMIN and blob.allows("HEAD") and not blob.allows("GET")
    assert routes.match("/api/status") is None
