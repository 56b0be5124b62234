"""A short-lived cache for the merged listings, with one build in flight per view.

Merged listings ask every backend; under load, thousands of clients asking for ``/api/tags`` each second
must not become thousands of fan-outs. An answer is reused for ``ttl`` seconds (``FLEET_LISTING_CACHE``),
and while one is being built, everyone else asking for it waits for that same build.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class ListingCache:
    """Encoded answers by view name, each reused for ``ttl`` seconds; one build at a time per view."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, bytes]] = {}
        self._building: dict[str, asyncio.Future[bytes]] = {}

    async def get(self, view: str, build: Callable[[], Awaitable[bytes]]) -> bytes:
        """The cached answer for ``view``, built (once, however many ask) when missing or stale."""
        entry = self._entries.get(view)
        if entry is not None and time.monotonic() - entry[0] < self.ttl:
            return entry[1]
        pending = self._building.get(view)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._building[view] = future
        try:
            body = await build()
        except BaseException as error:
            future.set_exception(error)
            future.exception()
            raise
        finally:
            del self._building[view]
        if self.ttl > 0:
            self._entries[view] = (time.monotonic(), body)
        future.set_result(body)
        return body

    def clear(self) -> None:
        """Forget every cached answer (after a change to what the backends hold)."""
        self._entries.clear()
