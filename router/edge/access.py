"""Who may call what: DESIGN.md's access table, and API/admin keys checked in constant time.

=====================================================  ===============  ==========================
path                                                   no keys set      API keys set
=====================================================  ===============  ==========================
``GET/HEAD /``, ``/healthz``, ``/readyz``, preflight   open             open
inference, read-only Ollama and ``/v1``, ``/metrics``,  open             API or admin key, else 401
``/fleet/status``
admin: pull, push, create, copy, delete, blobs, me,    admin key,       admin key, else 403
signout, experimental                                  else 403
any other ``/api/*`` path                              404              404
=====================================================  ===============  ==========================

Keys arrive as ``Authorization: Bearer <key>``. Every configured key is compared with
:func:`hmac.compare_digest`, all of them every time, so timing reveals neither a key nor which one
matched. Keys are never logged and never forwarded to a backend.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from enum import Enum

OPEN_PATHS = frozenset({"/", "/healthz", "/readyz"})
USER_PATHS = frozenset(
    {
        "/api/version",
        "/api/tags",
        "/api/ps",
        "/api/show",
        "/api/generate",
        "/api/chat",
        "/api/embed",
        "/api/embeddings",
        "/metrics",
        "/fleet/status",
    }
)
ADMIN_PATHS = frozenset(
    {"/api/pull", "/api/push", "/api/create", "/api/copy", "/api/delete", "/api/me", "/api/signout"}
)
ADMIN_PREFIXES = ("/api/blobs/", "/api/experimental/")


class Access(Enum):
    """What a path requires."""

    OPEN = "open"
    USER = "user"
    ADMIN = "admin"
    NOT_FOUND = "not found"


def classify(path: str) -> Access:
    """The access class of a request path."""
    if path in USER_PATHS or path.startswith("/v1/"):
        return Access.USER
    if path in OPEN_PATHS:
        return Access.OPEN
    if path in ADMIN_PATHS or path.startswith(ADMIN_PREFIXES):
        return Access.ADMIN
    return Access.NOT_FOUND


def bearer_token(authorization: bytes | None) -> bytes | None:
    """The key in an ``Authorization: Bearer <key>`` header, or None."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(b" ")
    if scheme.lower() != b"bearer" or not token.strip():
        return None
    return token.strip()


def _any_match(token: bytes, keys: Sequence[bytes]) -> bool:
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(token, key)
    return matched


class KeyChecker:
    """Decides whether a request's key opens a path; refusals come back as (status, message)."""

    def __init__(self, api_keys: Sequence[str], admin_keys: Sequence[str]) -> None:
        self._api = [key.encode() for key in api_keys]
        self._admin = [key.encode() for key in admin_keys]

    def refusal(self, access: Access, authorization: bytes | None) -> tuple[int, str] | None:
        """None when the request may go on, else the status and message to refuse it with."""
        if access is Access.OPEN or access is Access.NOT_FOUND:
            return None
        token = bearer_token(authorization)
        if access is Access.ADMIN:
            if not self._admin:
                return 403, "admin endpoints are disabled on this router (no admin key is configured)"
            if token is None or not _any_match(token, self._admin):
                return 403, "this endpoint needs an admin key (Authorization: Bearer <admin key>)"
            return None
        if not self._api:
            return None
        if token is None:
            return 401, "an API key is required (Authorization: Bearer <key>)"
        if _any_match(token, self._api) | _any_match(token, self._admin):
            return None
        return 401, "invalid API key"
