"""Who may call what: the access levels routes carry, and API/admin keys checked in constant time.

=====================================================  ===============  ==========================
path                                                   no keys set      API keys set
=====================================================  ===============  ==========================
``GET/HEAD /``, ``/healthz``, ``/readyz``, preflight   open             open
inference, read-only Ollama and ``/v1``, ``/metrics``,  open             API or admin key, else 401
``/fleet/status``
admin: pull, push, create, copy, delete, blobs, me,    admin key,       admin key, else 403
signout, experimental                                  else 403
any other path                                         404              404
=====================================================  ===============  ==========================

Each route of the table (``router.endpoints.routes``) carries its level; a path no route matches is a
404 before any key is looked at.

Keys arrive as ``Authorization: Bearer <key>``; on Anthropic's ``/v1/messages`` also as ``x-api-key: <key>``,
which is how Anthropic's clients send them. A request's ``X-Fleet-Backend`` header (forcing a backend
whatever the model map says) is an operator's tool: it is honoured only with an admin key, and refused
with 403 otherwise, on every path. Every configured key is compared with
:func:`hmac.compare_digest`, all of them every time, so timing reveals neither a key nor which one
matched. Keys are never logged and never forwarded to a backend.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from enum import Enum

from router.refusal import Refusal


class Access(Enum):
    """What a route requires; each route of the table carries its own."""

    OPEN = "open"
    USER = "user"
    ADMIN = "admin"


def bearer_token(authorization: bytes | None) -> bytes | None:
    """The key in an ``Authorization: Bearer <key>`` header, or None."""
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(b" ")
    if scheme.lower() != b"bearer" or not token.strip():
        return None
    return token.strip()


def request_key(authorization: bytes | None, api_key: bytes | None, *, anthropic: bool) -> bytes | None:
    """The key a request presents: its bearer token, or on Anthropic's path its ``x-api-key``."""
    token = bearer_token(authorization)
    if token is None and anthropic and api_key is not None and api_key.strip():
        return api_key.strip()
    return token


def _any_match(token: bytes, keys: Sequence[bytes]) -> bool:
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(token, key)
    return matched


UNAUTHORIZED = [(b"www-authenticate", b"Bearer")]
"""What a 401 carries: the scheme a client must use."""

BEARER = "Authorization: Bearer <key>"
ANTHROPIC_KEY = "x-api-key: <key>, or Authorization: Bearer <key>"
"""How a key may be sent: everywhere, and on Anthropic's path."""


class KeyChecker:
    """Decides whether a request's key opens a route; a refusal comes back as a :class:`Refusal`."""

    def __init__(self, api_keys: Sequence[str], admin_keys: Sequence[str]) -> None:
        self._api = [key.encode() for key in api_keys]
        self._admin = [key.encode() for key in admin_keys]

    def is_admin(self, token: bytes | None) -> bool:
        """Whether ``token`` is one of the admin keys."""
        return token is not None and bool(self._admin) and _any_match(token, self._admin)

    def fleet_backend_refusal(self, token: bytes | None) -> Refusal | None:
        """None when a request may force its backend with ``X-Fleet-Backend``, else the 403."""
        if self.is_admin(token):
            return None
        return Refusal(403, "the X-Fleet-Backend header needs an admin key; send the request without it")

    def refusal(self, access: Access, token: bytes | None, how: str = BEARER) -> Refusal | None:
        """None when a request presenting ``token`` may go on, else the refusal to answer it with."""
        if access is Access.OPEN:
            return None
        if access is Access.ADMIN:
            if not self._admin:
                return Refusal(403, "admin endpoints are disabled on this router (no admin key is configured)")
            if token is None or not _any_match(token, self._admin):
                return Refusal(403, "this endpoint needs an admin key (Authorization: Bearer <admin key>)")
            return None
        if not self._api:
            return None
        if token is None:
            return Refusal(401, f"an API key is required ({how})", UNAUTHORIZED)
        if _any_match(token, self._api) | _any_match(token, self._admin):
            return None
        return Refusal(401, "invalid API key", UNAUTHORIZED)
