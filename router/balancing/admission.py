"""Admission: a request takes a slot on a backend, waits in a bounded FIFO queue, or is refused.

A backend with ``max_in_flight`` holds at most that many requests. A request takes the first ranked
backend with room (so it spills to a lower priority rather than wait while one has room). When every
candidate is full it joins the wait queue of the first ranked backend whose queue is shorter than
``FLEET_QUEUE_LENGTH``, for at most ``FLEET_QUEUE_WAIT`` seconds; a freed slot goes to the queue's first
waiter (:meth:`router.balancing.backends.Backend.release`). Past that, the answer is a 503 with ``Retry-After``
and Ollama's own "server busy" wording, rather than an unbounded pile of requests in the router.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from router.balancing.backends import Backend
from router.balancing.selection import Unavailable
from router.telemetry.metrics import Reason

BUSY = "server busy, please try again.  maximum pending requests exceeded"
"""Ollama's own 503 wording when its queue is full: what the router answers when its queues are full."""

RETRY_AFTER_BUSY = 2.0
"""Seconds a refused client is asked to wait before trying again."""


@dataclass(frozen=True, slots=True)
class QueueLimits:
    """How many requests may wait per backend, and for how long."""

    length: int
    wait: float


async def admit(ranked: Sequence[Backend], limits: QueueLimits) -> Backend:
    """A slot on the first ranked backend with room, after waiting if need be; :class:`Unavailable` if full."""
    for backend in ranked:
        if backend.try_occupy():
            return backend
    for backend in ranked:
        if len(backend.waiters) < limits.length:
            await _wait(backend, limits.wait)
            return backend
    raise Unavailable(BUSY, RETRY_AFTER_BUSY, Reason.OVERLOADED)


async def _wait(backend: Backend, seconds: float) -> None:
    """Wait in ``backend``'s queue until a slot is handed over; the slot is ours when this returns."""
    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    backend.waiters.append(waiter)
    try:
        async with asyncio.timeout(seconds):
            await waiter
    except BaseException as error:
        if waiter.done() and not waiter.cancelled():
            backend.release()
        else:
            waiter.cancel()
            if waiter in backend.waiters:
                backend.waiters.remove(waiter)
        if isinstance(error, TimeoutError):
            raise Unavailable(BUSY, RETRY_AFTER_BUSY, Reason.OVERLOADED) from None
        raise
