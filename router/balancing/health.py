"""Active health checks: a cheap ``GET /api/version`` to every replica of every backend, now and then.

Passive health (what real requests see) only learns about a backend when a client pays for it, and
says nothing about an idle one. The prober asks each replica for ``/api/version`` (no model is
loaded, nothing is computed) every ``FLEET_PROBE_INTERVAL`` seconds, ±20 % so that router replicas
do not probe in lockstep, each probe bounded by ``FLEET_PROBE_TIMEOUT``. A 200 closes the replica's
circuit at once (the backend is back: no client request is spent on a half-open trial); anything else
counts as a failure like a failed request, so a backend that died while idle has its circuit opened
before traffic arrives. Probes go through the replica's own pool, so they reuse kept-alive connections.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time

from router.balancing.backends import Backend, BackendRegistry
from router.balancing.replicas import Replica
from router.upstream import Timeouts, UpstreamError, exchange

logger = logging.getLogger("router.health")

JITTER = 0.2
"""Each pause between probe rounds is the interval times a random factor in [1 - JITTER, 1 + JITTER]."""

PROBE_PATH = b"/api/version"


def _clock() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


async def probe(backend: Backend, replica: Replica, timeouts: Timeouts) -> bool:
    """Ask one replica for ``/api/version``; records the outcome on it and returns whether it answered 200."""
    head = backend.json_request(PROBE_PATH, b"fleet-probe")
    timeout = timeouts.first_byte
    try:
        async with asyncio.timeout(timeout):
            upstream = await exchange(replica.pool, head, timeouts)
            try:
                await upstream.body(4096)
            finally:
                upstream.close()
    except (UpstreamError, TimeoutError) as error:
        detail = str(error) or f"no answer within {timeout:g} s"
        reason = f"health probe failed: {detail}"
        replica.last_probe = f"{_clock()} failed"
        replica.record_failure(reason)
        return False
    replica.last_probe = f"{_clock()} {upstream.status}"
    if upstream.status != 200:
        replica.record_failure(f"health probe answered {upstream.status}")
        return False
    replica.record_success()
    return True


async def probe_all(backends: BackendRegistry, timeouts: Timeouts) -> None:
    """One round: every replica of every live backend, at once."""
    targets = [(backend, replica) for backend in backends.by_name.values() for replica in backend.replicas]
    await asyncio.gather(*(probe(backend, replica, timeouts) for backend, replica in targets))


async def run_probes(backends: BackendRegistry, timeouts: Timeouts, interval: float) -> None:
    """Probe rounds until cancelled (a lifespan-owned task); a round that breaks is logged, not fatal.

    ``timeouts.first_byte`` bounds each probe's whole answer.
    """
    await asyncio.sleep(interval * random.uniform(0, 1))
    while True:
        try:
            await probe_all(backends, timeouts)
        except Exception:
            logger.exception("health probe round failed")
        await asyncio.sleep(interval * random.uniform(1 - JITTER, 1 + JITTER))
