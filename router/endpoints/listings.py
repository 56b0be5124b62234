"""The merged views: ``/api/tags``, ``/api/ps``, ``/api/version`` and ``/v1/models``.

Each asks every backend at once with the short listing timeout, so a backend that is down only drops
its models (the answer still comes, from the others). A backend is asked through its least busy replica
whose circuit lets a request through; one whose circuits are all open is not asked at all. The encoded
answer is cached for ``FLEET_LISTING_CACHE`` seconds and concurrent requests for an expired view share
one fan-out, which is what lets a merged listing be served thousands of times a second. Admin requests
that change what a backend holds (pull, delete, create, copy, unload) clear the cache.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from router.balancing.backends import Backend
from router.endpoints.fleet import Fleet
from router.endpoints.merge import lowest_version, merge_models, models_of, openai_models
from router.upstream import UpstreamError, exchange

logger = logging.getLogger("router.listings")

LISTING_LIMIT = 16 << 20
"""Largest listing accepted from one backend."""


async def fetch_json(state: Fleet, backend: Backend, path: bytes) -> Any | None:
    """A backend's JSON answer to ``GET path``, or None if it is down, slow or answers badly."""
    replicas = backend.eligible(time.monotonic())
    if not replicas:
        return None
    replica = replicas[0]
    head = backend.json_request(path, b"fleet-listing")
    try:
        async with asyncio.timeout(state.listing_timeout):
            upstream = await exchange(replica.pool, head, state.listing_timeouts)
            try:
                body = await upstream.body(LISTING_LIMIT)
            finally:
                upstream.close()
    except (UpstreamError, TimeoutError) as error:
        replica.record_failure(str(error) or "listing timed out")
        logger.warning("listing failed", extra={"backend": backend.name, "path": path.decode(), "reason": str(error)})
        return None
    if upstream.status >= 500:
        replica.record_failure(f"answered {upstream.status}")
    else:
        replica.record_success()
    if upstream.status != 200:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


async def ask_all(state: Fleet, path: bytes) -> list[tuple[str, Any]]:
    """Every backend's answer to ``GET path`` that came back, as ``(backend name, document)``."""
    backends = list(state.backends.by_name.values())
    documents = await asyncio.gather(*(fetch_json(state, b, path) for b in backends))
    return [(b.name, d) for b, d in zip(backends, documents, strict=True) if d is not None]


def _encode(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


async def merged(state: Fleet, path: bytes, order_field: str) -> list[dict[str, Any]]:
    """The merged ``models`` of ``/api/tags`` or ``/api/ps``."""
    answers = [(name, models_of(document)) for name, document in await ask_all(state, path)]
    table = state.table
    return merge_models(answers, table.routed_keys(), table.aliases(), order_field)


async def tags_body(state: Fleet) -> bytes:
    """``/api/tags``."""
    return _encode({"models": await merged(state, b"/api/tags", "modified_at")})


async def ps_body(state: Fleet) -> bytes:
    """``/api/ps``."""
    return _encode({"models": await merged(state, b"/api/ps", "expires_at")})


async def openai_models_body(state: Fleet) -> bytes:
    """``/v1/models``, derived from the merged tags as Ollama derives it."""
    return _encode(openai_models(await merged(state, b"/api/tags", "modified_at")))


async def version_body(state: Fleet) -> bytes:
    """``/api/version``: the lowest version any backend reports, or empty bytes if none answered."""
    answers = await ask_all(state, b"/api/version")
    version = lowest_version([doc.get("version") for _, doc in answers if isinstance(doc, dict)])
    return b"" if version is None else _encode({"version": version})
