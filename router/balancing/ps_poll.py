"""Residency polls: ``GET /api/ps`` on every replica of every backend, every ``FLEET_PS_INTERVAL`` seconds.

``/api/ps`` lists the models an Ollama server holds in memory
(https://github.com/ollama/ollama/blob/main/docs/api.md#list-running-models). Each answer replaces the
router's view of that replica (:meth:`router.balancing.residency.Residency.polled`), so models another
router replica loaded, or that Ollama evicted or let expire, show up within one interval, and a
restarted router learns the fleet's state before its first cold start. Rounds are ±20 % jittered so
router replicas do not poll in lockstep, each poll is bounded by ``FLEET_PROBE_TIMEOUT``, and a replica
that does not answer keeps its view until it ages out: entries nothing confirmed for three intervals are
dropped. Polls go through each replica's own pool, reusing kept-alive connections.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time

from router.balancing.backends import Backend, BackendRegistry
from router.balancing.model_lists import listed_models
from router.balancing.replicas import Replica
from router.upstream import Timeouts, UpstreamError, exchange

logger = logging.getLogger("router.residency")

JITTER = 0.2
"""Each pause between rounds is the interval times a random factor in [1 - JITTER, 1 + JITTER]."""

STALE_ROUNDS = 3
"""Resident models no poll or answer confirmed for this many intervals are forgotten."""

PS_PATH = b"/api/ps"
PS_LIMIT = 1024 * 1024


def resident_models(body: bytes) -> list[str] | None:
    """The comparison keys of the models an ``/api/ps`` body lists, or None if it is not one."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return listed_models(document)


async def poll(backend: Backend, replica: Replica, timeouts: Timeouts) -> bool:
    """Ask one replica which models it holds and record the answer; returns whether it answered usefully."""
    head = backend.json_request(PS_PATH, b"fleet-ps")
    asked = time.monotonic()
    try:
        async with asyncio.timeout(timeouts.first_byte):
            upstream = await exchange(replica.pool, head, timeouts)
            try:
                body = await upstream.body(PS_LIMIT)
            finally:
                upstream.close()
    except (UpstreamError, TimeoutError):
        return False
    models = resident_models(body) if upstream.status == 200 else None
    if models is None:
        return False
    replica.residency.polled(models, asked, time.monotonic())
    timings = backend.timings
    timings.most_resident = max(timings.most_resident, len(replica.residency.seen))
    return True


async def poll_all(backends: BackendRegistry, timeouts: Timeouts, interval: float) -> None:
    """One round: every replica of every live backend, at once; then stale entries age out."""
    targets = [(backend, replica) for backend in backends.by_name.values() for replica in backend.replicas]
    await asyncio.gather(*(poll(backend, replica, timeouts) for backend, replica in targets))
    before = time.monotonic() - STALE_ROUNDS * interval
    for _, replica in targets:
        replica.residency.prune(before)


async def run_ps_polls(backends: BackendRegistry, timeouts: Timeouts, interval: float) -> None:
    """Poll rounds until cancelled (a lifespan-owned task); a round that breaks is logged, not fatal."""
    await asyncio.sleep(interval * random.uniform(0, 0.2))
    while True:
        try:
            await poll_all(backends, timeouts, interval)
        except Exception:
            logger.exception("residency poll round failed")
        await asyncio.sleep(interval * random.uniform(1 - JITTER, 1 + JITTER))
