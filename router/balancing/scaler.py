"""Scale to zero for the whole map: which of a request's backends may serve it now, and the pools' upkeep.

:meth:`Scaler.ready` runs before a request is forwarded. Backends without ``scale`` and awake pools pass
through. If the preferred backend (best priority) is asleep but some other candidate is awake, the request
goes to the awake one at once and the preferred pool wakes in the background. If every candidate is asleep,
the request waits (no byte sent yet) for the preferred pool's shared wake, up to its ``wake_timeout_s``.

:meth:`Scaler.run` is a lifespan-owned task: every pool's :meth:`~router.balancing.scale_pool.ScalePool.tick`
(renew activity, read the StatefulSet, sleep an idle pool), about once a second, calling the API only when
a pool's own intervals say so. With no ``scale`` backend in the map it never calls the API at all.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from router.balancing.backends import Backend, BackendRegistry
from router.balancing.health import probe
from router.balancing.scale_pool import ScalePool, poll_interval
from router.balancing.selection import Choice
from router.telemetry.scale_metrics import ScaleMetrics
from router.upstream import Timeouts

if TYPE_CHECKING:
    from router.balancing.kube_api import KubeApi

logger = logging.getLogger("router.scaling")

API_TIMEOUT_S = 5.0
"""Each call to the Kubernetes API: connect, send and read, at most."""
TICK_S = 1.0
Refresh = Callable[[list[Backend]], Awaitable[None]]


def identity() -> str:
    """How this router signs the Leases it renews: its pod name (the host name in a pod) and process id."""
    return f"{socket.gethostname()}/{os.getpid()}"


class Scaler:
    """The pools of the live map that scale to zero, and the one Kubernetes API client they share."""

    def __init__(
        self,
        backends: BackendRegistry,
        metrics: ScaleMetrics,
        probe_timeouts: Timeouts,
        refresh: Refresh | None = None,
    ) -> None:
        self.backends = backends
        self.metrics = metrics
        self.probe_timeouts = probe_timeouts
        self.refresh = refresh
        self._api: KubeApi | None = None
        self.pools: dict[str, ScalePool] = {}
        self.sync()

    def _kube_api(self) -> KubeApi:
        """The one API client, made when the first pool that scales to zero appears."""
        if self._api is None:
            from router.balancing.kube_api import KubeApi  # loads lightkube only for maps that need it

            self._api = KubeApi(API_TIMEOUT_S, identity())
        return self._api

    def sync(self) -> None:
        """Follow the live map: a pool per backend with ``scale`` (a changed backend or spec starts afresh)."""
        wanted = {name: b for name, b in self.backends.by_name.items() if b.scale is not None}
        for name, pool in list(self.pools.items()):
            backend = wanted.get(name)
            if backend is None or backend is not pool.backend or backend.scale != pool.spec:
                del self.pools[name]
                asyncio.get_running_loop().create_task(pool.aclose())
        for name, backend in wanted.items():
            if name not in self.pools:
                self.pools[name] = ScalePool(backend, self._kube_api(), self.metrics, self._answers)

    async def _answers(self, backend: Backend) -> bool:
        if self.refresh is not None and backend.resolve:
            await self.refresh([backend])
        results = await asyncio.gather(*(probe(backend, replica, self.probe_timeouts) for replica in backend.replicas))
        return any(results)

    async def ready(self, options: Sequence[Choice]) -> Sequence[Choice]:
        """The options that may serve now; waits for a wake when none can.

        An option can serve when it is awake (a pool) or its circuit lets requests through (any other
        backend). When the best-priority option is a sleeping pool it wakes, in the background if another
        option can serve meanwhile; when none can, the request waits for the best sleeping pool.
        """
        if not self.pools or not options:
            return options
        pools = [self.pools.get(option.backend.name) for option in options]
        if all(pool is None for pool in pools):
            return options
        now = time.monotonic()
        serving = [
            option
            for option, pool in zip(options, pools, strict=True)
            if (pool.routable if pool is not None else option.backend.available(now))
        ]
        order = sorted(range(len(options)), key=lambda index: options[index].priority)
        asleep = [pool for pool in (pools[index] for index in order) if pool is not None and not pool.routable]
        preferred = pools[order[0]]
        if serving or not asleep:
            if preferred is not None and not preferred.routable:
                preferred.wake()
            return serving or options
        target = asleep[0]
        await target.wait()
        return [option for option, pool in zip(options, pools, strict=True) if pool is target]

    async def run(self) -> None:
        """Tick every pool until cancelled (a lifespan-owned task); a failing tick is logged, not fatal."""
        while True:
            self.sync()
            for pool in list(self.pools.values()):
                try:
                    await pool.tick()
                except Exception:
                    logger.exception("scale-to-zero upkeep failed", extra={"backend": pool.name})
            pause = min((poll_interval(p.spec.idle_after_s) for p in self.pools.values()), default=TICK_S)
            await asyncio.sleep(min(TICK_S, pause))

    def status(self) -> list[dict[str, object]]:
        """Each scaling pool as ``/fleet/status`` shows it."""
        return [pool.status() for pool in self.pools.values()]

    async def aclose(self) -> None:
        """Stop wakes in progress and close the API client."""
        pools, self.pools = list(self.pools.values()), {}
        for pool in pools:
            await pool.aclose()
        if self._api is not None:
            await self._api.aclose()
