"""Browser origins, as Ollama's ``OLLAMA_ORIGINS`` and gin-contrib/cors treat them.

The allowed origins are Ollama's defaults (``http(s)://localhost``, ``127.0.0.1`` and ``0.0.0.0`` on any
port, plus the ``app://``, ``file://``, ``tauri://``, ``vscode-webview://`` and ``vscode-file://``
schemes) and whatever ``FLEET_ORIGINS`` adds; ``*`` is a wildcard inside a pattern and ``*`` alone
allows every origin. A request whose ``Origin`` is not allowed (and is not the router's own origin) is
refused with 403 before anything else happens, as gin-contrib/cors does; a preflight from an allowed
origin is answered at once, before the key check, because browsers never send credentials on one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_LOCAL_HOSTS = ("localhost", "127.0.0.1", "0.0.0.0")
DEFAULT_ORIGINS: tuple[str, ...] = (
    *(f"{scheme}://{host}{port}" for scheme in ("http", "https") for host in _LOCAL_HOSTS for port in ("", ":*")),
    "app://*",
    "file://*",
    "tauri://*",
    "vscode-webview://*",
    "vscode-file://*",
)

ALLOW_METHODS = b"GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS"
ALLOW_HEADERS = frozenset(
    {
        "authorization",
        "content-type",
        "user-agent",
        "accept",
        "x-requested-with",
        "openai-beta",
        "x-fleet-backend",
        "x-request-id",
        "x-api-key",
        "anthropic-version",
        "anthropic-beta",
    }
)
EXPOSE_HEADERS = b"x-fleet-backend, x-request-id"
MAX_AGE = b"43200"


class CorsPolicy:
    """Which origins may call the router from a browser, and the headers that say so."""

    def __init__(self, extra_origins: Sequence[str] = ()) -> None:
        patterns = [*DEFAULT_ORIGINS, *extra_origins]
        self._any = "*" in patterns
        self._regex = re.compile(
            "|".join("(?:" + ".*".join(re.escape(part) for part in p.split("*")) + ")" for p in patterns),
            re.IGNORECASE,
        )

    def allows(self, origin: bytes, host: bytes | None) -> bool:
        """Whether ``origin`` may call; the router's own origin (same host) always may."""
        if self._any:
            return True
        if host is not None and origin in (b"http://" + host, b"https://" + host):
            return True
        return self._regex.fullmatch(origin.decode("latin-1")) is not None

    @staticmethod
    def response_headers(origin: bytes) -> list[tuple[bytes, bytes]]:
        """Headers for an ordinary response to an allowed origin."""
        return [
            (b"access-control-allow-origin", origin),
            (b"access-control-expose-headers", EXPOSE_HEADERS),
            (b"vary", b"Origin"),
        ]

    @staticmethod
    def preflight_headers(origin: bytes, requested: bytes | None) -> list[tuple[bytes, bytes]]:
        """Headers answering a preflight: the methods, and those requested headers that are allowed."""
        names = [name.strip().lower() for name in (requested or b"").decode("latin-1").split(",")]
        allowed = [n for n in names if n in ALLOW_HEADERS or n.startswith("x-stainless-")]
        headers = sorted(ALLOW_HEADERS | set(allowed))
        return [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-methods", ALLOW_METHODS),
            (b"access-control-allow-headers", ", ".join(headers).encode("latin-1")),
            (b"access-control-max-age", MAX_AGE),
            (b"vary", b"Origin"),
        ]
