"""Merging backends' listings: routed models only, one entry each, aliases, Ollama's order, never null."""

from __future__ import annotations

from typing import Any

from config.model_map import RouteTarget
from config.model_names import model_key
from router.endpoints.merge import instant, lowest_version, merge_models, models_of, openai_models


def _tag(name: str, modified: str, digest: str = "d") -> dict[str, Any]:
    return {"name": name, "model": name, "modified_at": modified, "digest": digest, "size": 1, "details": {}}


ROUTES = {
    model_key("llama3.2:3b"): (RouteTarget(name="t4", priority=0), RouteTarget(name="l4", priority=1)),
    model_key("qwen2.5:7b"): (RouteTarget(name="l4", priority=0),),
}


def test_only_routed_models_from_their_backends_newest_first() -> None:
    answers = [
        ("t4", [_tag("llama3.2:3b", "2024-01-01T00:00:00Z", "t4"), _tag("stray:1b", "2025-01-01T00:00:00Z")]),
        (
            "l4",
            [
                _tag("llama3.2:3b", "2024-01-01T00:00:00Z", "l4"),
                _tag("qwen2.5:7b", "2024-06-01T12:00:00.123456789+02:00"),
            ],
        ),
    ]
    merged = merge_models(answers, ROUTES, {}, "modified_at")
    assert [entry["name"] for entry in merged] == ["qwen2.5:7b", "llama3.2:3b"]
    assert merged[1]["digest"] == "t4", "the backend of lowest priority wins"


def test_a_model_listed_by_a_backend_that_does_not_serve_it_is_left_out() -> None:
    merged = merge_models([("t4", [_tag("qwen2.5:7b", "2024-01-01T00:00:00Z")])], ROUTES, {}, "modified_at")
    assert merged == []


def test_aliases_copy_their_target() -> None:
    answers = [("t4", [_tag("llama3.2:3b", "2024-01-01T00:00:00Z")])]
    merged = merge_models(answers, ROUTES, {"chat:latest": model_key("llama3.2:3b")}, "modified_at")
    alias = next(entry for entry in merged if entry["name"] == "chat:latest")
    assert alias["model"] == "chat:latest"
    assert alias["digest"] == "d" and alias["details"] == {}


def test_names_compare_as_ollama_compares_them() -> None:
    answers = [("t4", [_tag("LLAMA3.2:3B", "2024-01-01T00:00:00Z")])]
    assert [e["name"] for e in merge_models(answers, ROUTES, {}, "modified_at")] == ["LLAMA3.2:3B"]


def test_ps_orders_by_expiry_latest_first() -> None:
    answers = [
        (
            "l4",
            [
                {"name": "llama3.2:3b", "model": "llama3.2:3b", "expires_at": "2030-01-01T00:00:00Z"},
                {"name": "qwen2.5:7b", "model": "qwen2.5:7b", "expires_at": "2031-01-01T00:00:00Z"},
            ],
        )
    ]
    merged = merge_models(answers, ROUTES, {}, "expires_at")
    assert [e["name"] for e in merged] == ["qwen2.5:7b", "llama3.2:3b"]


def test_null_and_malformed_answers_give_empty_lists() -> None:
    assert models_of({"models": None}) == []
    assert models_of({"models": [1]}) == [1]
    assert models_of("nonsense") == []
    assert merge_models([("t4", [1, {"name": 5}, {"name": "bad name!"}])], ROUTES, {}, "modified_at") == []
    assert openai_models([]) == {"object": "list", "data": []}


def test_openai_models_are_derived_from_tags() -> None:
    listing = openai_models([_tag("hf.co/user/model:Q4", "1970-01-01T00:01:40Z")])
    assert listing["data"] == [{"id": "hf.co/user/model:Q4", "object": "model", "created": 100, "owned_by": "user"}]


def test_go_times_are_read_with_nanoseconds_and_offsets() -> None:
    assert instant("1970-01-01T00:00:10.123456789Z") == 10.123456
    assert instant("1970-01-01T01:00:00+01:00") == 0.0
    assert instant("garbage") == 0.0


def test_the_lowest_version_in_numeric_form() -> None:
    assert lowest_version(["0.32.15", "v0.5.1-rc2", "0.12.0"]) == "0.5.1"
    assert lowest_version(["0.10.0", "0.9.9"]) == "0.9.9"
    assert lowest_version([None, "dev"]) is None
