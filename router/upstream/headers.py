"""Which headers cross the router, in each direction, and the request head sent to a backend.

A proxy must not forward hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, and the
router's connection to a backend is not the client's. ``Host`` is always the backend's own: Ollama
refuses a foreign Host on a loopback listener (its DNS-rebinding guard), so the client's value would get
a 403. The client's ``Authorization`` and ``x-api-key`` carry the router's own keys and never leave the
router. A client's ``Forwarded``, ``X-Forwarded-*`` and ``X-Real-IP`` are dropped, not passed on as if the
router had vouched for them: the router does not act as a forwarding proxy that records the client, and
Ollama reads none of them. A backend outside the cluster gets
the router's token for it instead (:mod:`router.upstream.secure`).
"""

from __future__ import annotations

from collections.abc import Iterable

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
"""Headers that describe one connection and are never forwarded, in either direction."""

_NOT_FORWARDED_UP = HOP_BY_HOP | {
    b"host",
    b"content-length",
    b"authorization",
    b"x-api-key",
    b"forwarded",
    b"x-real-ip",
    b"expect",
    b"x-fleet-backend",
    b"x-request-id",
}
"""Request headers the router replaces or keeps to itself (and every ``x-forwarded-*``)."""

_FORWARDED_PREFIX = b"x-forwarded-"

_NOT_FORWARDED_DOWN = HOP_BY_HOP | {b"date", b"server"}
"""Response headers the router's own server writes (``date``) or that Ollama never sends (``server``)."""


def _connection_tokens(headers: Iterable[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """Header names listed in ``Connection``: hop-by-hop too, by the sender's declaration."""
    tokens: set[bytes] = set()
    for name, value in headers:
        if name == b"connection":
            tokens.update(token.strip().lower() for token in value.split(b","))
    return frozenset(tokens)


def request_head(
    method: str,
    target: bytes,
    host: bytes,
    client_headers: Iterable[tuple[bytes, bytes]],
    *,
    request_id: bytes,
    content_length: int | None,
    authorization: bytes | None = None,
) -> bytes:
    """The request line and headers for a backend; ``content_length=None`` means a chunked body.

    ``authorization`` is the backend's own credential (``Bearer <token>``), never the client's.
    """
    client_headers = list(client_headers)
    dropped = _NOT_FORWARDED_UP | _connection_tokens(client_headers)
    lines = [b"%s %s HTTP/1.1\r\nhost: %s\r\n" % (method.encode("ascii"), target, host)]
    for name, value in client_headers:
        if name not in dropped and not name.startswith(_FORWARDED_PREFIX):
            lines.append(b"%s: %s\r\n" % (name, value))
    lines.append(b"x-request-id: %s\r\n" % request_id)
    if authorization is not None:
        lines.append(b"authorization: %s\r\n" % authorization)
    if content_length is None:
        lines.append(b"transfer-encoding: chunked\r\n\r\n")
    else:
        lines.append(b"content-length: %d\r\n\r\n" % content_length)
    return b"".join(lines)


def response_headers(backend_headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The backend's response headers a client may see: end-to-end ones, byte for byte."""
    dropped = _NOT_FORWARDED_DOWN | _connection_tokens(backend_headers)
    return [(name, value) for name, value in backend_headers if name not in dropped]


def header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The first value of a lower-case header name, or None."""
    for key, value in headers:
        if key == name:
            return value
    return None
