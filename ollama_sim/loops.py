"""The event loop the simulator runs on: uvloop when installed (as in the benchmark), else asyncio's."""

from __future__ import annotations

import asyncio

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop is in requirements.txt; the fallback keeps the sim portable
    uvloop = None  # type: ignore[assignment]


def new_event_loop() -> asyncio.AbstractEventLoop:
    """A fresh loop: uvloop's if available."""
    if uvloop is not None:
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()
