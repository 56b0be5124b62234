"""Merged listings with a pool down, and the listing cache."""

from __future__ import annotations

import httpx
import ollama
import openai

from tests.router.conftest import Fleet, fleet_router


def test_listings_survive_a_pool_that_is_down(fleet: Fleet) -> None:
    fleet.l4.stop()
    with ollama.Client(host=fleet.url) as client:
        names = sorted(model.model or "" for model in client.list().models)
        assert names == ["chat:latest", "llama3.2:3b", "llama3.2:latest", "qwen2.5:7b"]
        assert isinstance(client.ps().models, list)
    assert httpx.get(fleet.url + "/api/version").json() == {"version": "0.32.15"}
    with openai.OpenAI(base_url=fleet.url + "/v1", api_key="unused", max_retries=0) as oai:
        assert "mistral:7b" not in [model.id for model in oai.models.list().data]


def test_with_every_pool_down_lists_are_empty_and_version_is_502(fleet: Fleet) -> None:
    fleet.t4.stop()
    fleet.l4.stop()
    assert httpx.get(fleet.url + "/api/tags").json() == {"models": []}
    assert httpx.get(fleet.url + "/api/ps").json() == {"models": []}
    assert httpx.get(fleet.url + "/v1/models").json() == {"object": "list", "data": []}
    assert httpx.get(fleet.url + "/api/version").status_code == 502


def test_listings_are_cached_briefly_and_shared(fleet: Fleet) -> None:
    with fleet_router(fleet, listing_cache=60.0) as router:
        first = httpx.get(router.url + "/api/tags")
        fleet.t4.stop()
        assert httpx.get(router.url + "/api/tags").content == first.content
        assert fleet.t4.observed.paths().count("/api/tags") == 1
