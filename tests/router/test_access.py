"""The access table the routes carry, key checks and browser origins, without sockets."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.model_map import parse_model_map
from router.edge.access import Access, KeyChecker, bearer_token
from router.edge.cors import CorsPolicy
from router.endpoints.routes import fleet_routes
from router.runtime.settings import RouterSettings
from router.runtime.state import FleetState

ROUTES = fleet_routes(
    FleetState(RouterSettings(model_map=Path("m")), parse_model_map({"backends": [{"name": "t4", "url": "http://t4"}]}))
)


@pytest.mark.parametrize(
    ("path", "access"),
    [
        ("/", Access.OPEN),
        ("/healthz", Access.OPEN),
        ("/readyz", Access.OPEN),
        ("/api/generate", Access.USER),
        ("/api/chat", Access.USER),
        ("/api/tags", Access.USER),
        ("/api/show", Access.USER),
        ("/v1/chat/completions", Access.USER),
        ("/v1/anything/else", Access.USER),
        ("/v1/messages", Access.USER),
        ("/metrics", Access.USER),
        ("/fleet/status", Access.USER),
        ("/api/pull", Access.ADMIN),
        ("/api/push", Access.ADMIN),
        ("/api/create", Access.ADMIN),
        ("/api/copy", Access.ADMIN),
        ("/api/delete", Access.ADMIN),
        ("/api/blobs/sha256:abc", Access.ADMIN),
        ("/api/me", Access.ADMIN),
        ("/api/signout", Access.ADMIN),
        ("/api/experimental/web_search", Access.ADMIN),
        ("/api/status", None),
        ("/api/user/keys/x", None),
        ("/nope", None),
    ],
)
def test_every_path_has_its_access_class(path: str, access: Access | None) -> None:
    route = ROUTES.match(path)
    assert (route.access if route is not None else None) is access


def test_bearer_tokens_are_parsed_strictly() -> None:
    assert bearer_token(b"Bearer abc") == b"abc"
    assert bearer_token(b"bearer  abc ") == b"abc"
    assert bearer_token(b"Basic abc") is None
    assert bearer_token(b"Bearer ") is None
    assert bearer_token(None) is None


def test_no_keys_means_open_inference_and_closed_admin() -> None:
    keys = KeyChecker([], [])
    assert keys.refusal(Access.USER, None) is None
    refusal = keys.refusal(Access.ADMIN, b"anything")
    assert refusal is not None and refusal.status == 403


def test_api_keys_gate_inference_and_admin_keys_open_everything() -> None:
    keys = KeyChecker(["user-key"], ["admin-key"])
    assert keys.refusal(Access.OPEN, None) is None
    missing, wrong = keys.refusal(Access.USER, None), keys.refusal(Access.USER, b"wrong")
    assert missing is not None and (missing.status, missing.message) == (
        401,
        "an API key is required (Authorization: Bearer <key>)",
    )
    assert wrong is not None and (wrong.status, wrong.message, wrong.headers) == (
        401,
        "invalid API key",
        [(b"www-authenticate", b"Bearer")],
    )
    assert keys.refusal(Access.USER, b"user-key") is None
    assert keys.refusal(Access.USER, b"admin-key") is None
    assert keys.refusal(Access.ADMIN, b"user-key") is not None
    assert keys.refusal(Access.ADMIN, None) is not None
    assert keys.refusal(Access.ADMIN, b"admin-key") is None


def test_default_origins_are_ollamas() -> None:
    cors = CorsPolicy()
    for origin in (b"http://localhost", b"http://localhost:3000", b"https://127.0.0.1:8443", b"http://0.0.0.0:1"):
        assert cors.allows(origin, None), origin
    for origin in (b"app://obsidian.md", b"vscode-webview://x", b"tauri://localhost"):
        assert cors.allows(origin, None), origin
    for origin in (b"https://evil.example", b"http://localhost.evil.example", b"http://127.0.0.2"):
        assert not cors.allows(origin, None), origin


def test_extra_origins_add_to_the_defaults_and_the_own_origin_is_allowed() -> None:
    cors = CorsPolicy(["https://*.example.com"])
    assert cors.allows(b"https://chat.example.com", None)
    assert cors.allows(b"http://localhost:8080", None)
    assert not cors.allows(b"https://example.org", None)
    assert cors.allows(b"http://router.internal:11434", b"router.internal:11434")
    assert CorsPolicy(["*"]).allows(b"https://anything.example", None)


def test_preflight_allows_the_openai_clients_headers() -> None:
    headers = dict(CorsPolicy.preflight_headers(b"http://localhost", b"Authorization, X-Stainless-Lang, X-Evil"))
    allowed = headers[b"access-control-allow-headers"].decode().split(", ")
    assert "x-stainless-lang" in allowed and "authorization" in allowed
    assert "x-evil" not in allowed
    assert headers[b"access-control-allow-origin"] == b"http://localhost"
