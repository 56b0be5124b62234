"""Relaying a backend's answer to the client: status, headers and body bytes exactly as sent.

The loop is the router's hot path: per network read it does one ``read``, one ``count(b"\\n")`` for the
metrics and one ``send``; no JSON, no re-encoding, no per-line work. If the backend fails after the first
byte, the status (200) is already gone, so the stream ends with one final line in its own format, which is how
Ollama itself reports a mid-stream error (https://github.com/ollama/ollama/blob/main/docs/api/errors.mdx):
``{"error": "..."}`` on an NDJSON stream, a ``data: {"error": {...}}`` event (and no ``[DONE]``) on an SSE
stream, and on Anthropic's ``/v1/messages`` stream Anthropic's own ``event: error`` with
``{"type": "error", "error": {"type": "api_error", "message": ...}}``
(https://docs.anthropic.com/en/docs/build-with-claude/streaming#error-events). A body that is neither (a
sized JSON answer) cannot be completed honestly, so the client's connection is closed instead. The
failure is counted (``fleet_errors_total{reason="midstream"}``), logged with the request id, and counts
against the replica's circuit. There is no silent retry after the first byte.

The same final line ends a stream the server cancels because the drain deadline passed (the router is
shutting down), so the client learns why its answer stopped; a client that hung up gets nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from starlette.types import Send

from router.balancing.backends import Backend
from router.balancing.replicas import Replica
from router.edge.context import RequestContext
from router.edge.disconnect import DisconnectWatcher
from router.edge.responses import anthropic_error, ollama_error, openai_error_object
from router.telemetry.metrics import Metrics, Reason
from router.upstream import UpstreamError, UpstreamResponse
from router.upstream.headers import header, response_headers

logger = logging.getLogger("router.relay")

NDJSON = "ndjson"
SSE = "sse"
ANTHROPIC_SSE = "anthropic-sse"


def stream_format(content_type: bytes | None) -> str | None:
    """``ndjson``, ``sse`` or None (a body that cannot take a final error line)."""
    if content_type is None:
        return None
    media = content_type.split(b";", 1)[0].strip().lower()
    if media == b"application/x-ndjson":
        return NDJSON
    if media == b"text/event-stream":
        return SSE
    return None


def _trailing_newlines(tail: bytes) -> int:
    """How many of the two newlines that end an SSE event ``tail`` already has (0 to 2)."""
    if not tail or tail.endswith(b"\n\n"):
        return 2
    return 1 if tail.endswith(b"\n") else 0


def final_error_line(fmt: str, tail: bytes, message: str, *, status: int = 500, request_id: str = "") -> bytes:
    """The closing error line, preceded by whatever ends a partly sent line or event."""
    if fmt == NDJSON:
        prefix = b"" if not tail or tail.endswith(b"\n") else b"\n"
        return prefix + ollama_error(message) + b"\n"
    prefix = b"\n\n"[: 2 - _trailing_newlines(tail)]
    if fmt == ANTHROPIC_SSE:
        return prefix + b"event: error\ndata: " + anthropic_error(status, message, request_id) + b"\n\n"
    event = json.dumps({"error": openai_error_object(500, message)}, separators=(",", ":")).encode()
    return prefix + b"data: " + event + b"\n\n"


def _headers(ctx: RequestContext, upstream: UpstreamResponse, backend: Backend) -> list[tuple[bytes, bytes]]:
    """The backend's end-to-end headers, then ``X-Fleet-Backend`` and the request's own headers."""
    headers = response_headers(upstream.headers)
    headers.append((b"x-fleet-backend", backend.name_header))
    headers.extend(ctx.response_headers)
    return headers


SHUTDOWN_MESSAGE = "the router shut down before the answer was complete; please retry"


async def _end_with_error(
    ctx: RequestContext, send: Send, fmt: str | None, tail: bytes, message: str, *, status: int
) -> None:
    """Close a started stream with its final error line (a body of unknown format just ends)."""
    if fmt is not None:
        line = final_error_line(fmt, tail, message, status=status, request_id=ctx.request_id)
        with contextlib.suppress(Exception):
            await send({"type": "http.response.body", "body": line, "more_body": False})


def _log_failure(backend: Backend, replica: Replica, error: UpstreamError) -> None:
    extra = {"backend": backend.name, "replica": replica.address, "reason": str(error)}
    logger.warning("stream failed", extra=extra)


async def relay(
    ctx: RequestContext,
    metrics: Metrics,
    send: Send,
    upstream: UpstreamResponse,
    replica: Replica,
    *,
    backend: Backend,
    watcher: DisconnectWatcher,
) -> None:
    """Send the backend's response to the client, chunk by chunk as it arrives."""
    fmt = stream_format(header(upstream.headers, b"content-type"))
    if fmt == SSE and ctx.anthropic:
        fmt = ANTHROPIC_SSE
    ctx.status = upstream.status
    await send({"type": "http.response.start", "status": upstream.status, "headers": _headers(ctx, upstream, backend)})
    started = time.perf_counter()
    lines = 0
    tail = b""
    read = upstream.read
    try:
        while chunk := await read():
            lines += chunk.count(b"\n")
            tail = chunk
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    except UpstreamError as error:
        watcher.finishing = True
        upstream.abort()
        replica.record_failure(str(error))
        metrics.error(ctx.endpoint, Reason.MIDSTREAM)
        _log_failure(backend, replica, error)
        message = f"backend {backend.name} failed during the response: {error}"
        await _end_with_error(ctx, send, fmt, tail, message, status=502)
        return
    except asyncio.CancelledError:
        if not watcher.fired:
            watcher.finishing = True
            metrics.error(ctx.endpoint, Reason.SHUTDOWN)
            await _end_with_error(ctx, send, fmt, tail, SHUTDOWN_MESSAGE, status=503)
        raise
    finally:
        metrics.stream_done(ctx.model, backend.name, time.perf_counter() - started, lines)
    upstream.close()
    watcher.finishing = True
    await send({"type": "http.response.body", "body": b"", "more_body": False})
