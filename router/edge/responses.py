"""Answers the router writes itself: JSON, plain text, and errors in each path's shape.

Ollama paths get ``{"error": "..."}``; ``/v1`` paths get OpenAI's
``{"error": {"message", "type", "param": null, "code": null}}`` with Ollama's mapping of status to
``type`` (400 ``invalid_request_error``, 404 ``not_found_error``, anything else ``api_error``);
Anthropic's ``/v1/messages`` gets ``{"type": "error", "error": {"type", "message"}, "request_id"}`` with
the types Ollama's Anthropic middleware gives each status (``NewError`` in
https://github.com/ollama/ollama/blob/main/anthropic/anthropic.go). Gin's
own answers for unknown paths and methods stay plain text, as Ollama sends them. Every answer carries the
request's ``X-Request-Id`` (and CORS headers when the request came from an allowed origin).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from starlette.types import Send

from router.edge.context import RequestContext

JSON = b"application/json; charset=utf-8"
TEXT = b"text/plain; charset=utf-8"

_OPENAI_TYPES = {400: "invalid_request_error", 404: "not_found_error"}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}


def ollama_error(message: str) -> bytes:
    """Ollama's error body."""
    return json.dumps({"error": message}, separators=(",", ":")).encode()


def openai_error_object(status: int, message: str) -> dict[str, Any]:
    """OpenAI's error object (the value of ``error``), typed as Ollama's middleware types it."""
    return {"message": message, "type": _OPENAI_TYPES.get(status, "api_error"), "param": None, "code": None}


def openai_error(status: int, message: str) -> bytes:
    """OpenAI's error body."""
    return json.dumps({"error": openai_error_object(status, message)}, separators=(",", ":")).encode()


def anthropic_error(status: int, message: str, request_id: str) -> bytes:
    """Anthropic's error body (also the data of its ``event: error`` SSE event)."""
    error = {"type": _ANTHROPIC_TYPES.get(status, "api_error"), "message": message}
    document = {"type": "error", "error": error, "request_id": request_id}
    return json.dumps(document, separators=(",", ":")).encode()


async def send_bytes(
    ctx: RequestContext,
    send: Send,
    status: int,
    body: bytes,
    *,
    content_type: bytes | None = JSON,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """A complete response with a known body."""
    out = [(b"content-length", b"%d" % len(body)), *headers, *ctx.response_headers]
    if content_type is not None:
        out.insert(0, (b"content-type", content_type))
    ctx.status = status
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_json(ctx: RequestContext, send: Send, status: int, document: Any) -> None:
    """A JSON response, compact as Go writes it."""
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    await send_bytes(ctx, send, status, body)


async def send_error(
    ctx: RequestContext, send: Send, status: int, message: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """An error in the shape the request's path calls for."""
    if ctx.anthropic:
        body = anthropic_error(status, message, ctx.request_id)
    elif ctx.openai:
        body = openai_error(status, message)
    else:
        body = ollama_error(message)
    await send_bytes(ctx, send, status, body, headers=headers)


async def send_not_found(ctx: RequestContext, send: Send) -> None:
    """Gin's answer for an unknown path (OpenAI's shape under ``/v1``)."""
    if ctx.openai:
        await send_error(ctx, send, 404, "404 page not found")
    else:
        await send_bytes(ctx, send, 404, b"404 page not found", content_type=TEXT)


async def send_method_not_allowed(ctx: RequestContext, send: Send) -> None:
    """Gin's answer for a known path called with the wrong method."""
    if ctx.openai:
        await send_error(ctx, send, 405, "405 method not allowed")
    else:
        await send_bytes(ctx, send, 405, b"405 method not allowed", content_type=TEXT)
