"""The router's background work, owned by the application lifespan: resolving, probing, watching the map.

:meth:`Services.start` runs in the lifespan's start-up: it looks up the replicas of ``resolve: true``
backends before the first request, then starts one task each for the health probes
(``FLEET_PROBE_INTERVAL``, 0 turns them off) with the external backends' model checks every few rounds
(:mod:`router.balancing.inventory`), the residency polls (``FLEET_PS_INTERVAL``, 0 turns them off), the DNS
look-ups (``FLEET_RESOLVE_INTERVAL``) and the
model-map watcher (``FLEET_RELOAD_INTERVAL``, 0 turns it off). :meth:`Services.aclose` runs in the
lifespan's shutdown: it cancels every task and waits for each to end, so none outlives the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from router.balancing.health import run_probes
from router.balancing.inventory import INVENTORY_ROUNDS, Inventory
from router.balancing.ps_poll import run_ps_polls
from router.balancing.resolver import ReplicaResolver, Resolve
from router.runtime.reload import MapWatcher
from router.runtime.state import FleetState


class Services:
    """The background tasks of one router process."""

    def __init__(self, state: FleetState, resolve: Resolve | None = None) -> None:
        self.state = state
        settings = state.settings
        self.resolver = ReplicaResolver(state.backends, settings.connect_timeout, settings.resolve_interval, resolve)
        state.scaler.refresh = self.resolver.refresh
        self.watcher = MapWatcher(state, self.resolver)
        self.inventory = Inventory(state.backends, lambda: state.table, state.listing_timeouts)
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Resolve replicas now, then start the periodic tasks."""
        await self.resolver.refresh(list(self.state.backends.by_name.values()))
        settings = self.state.settings
        if settings.probe_interval > 0:
            self._spawn(
                run_probes(self.state.backends, self.state.probe_timeouts, settings.probe_interval), "fleet-probes"
            )
            self._spawn(self.inventory.run(settings.probe_interval * INVENTORY_ROUNDS), "fleet-inventory")
        if settings.ps_interval > 0:
            self._spawn(
                run_ps_polls(self.state.backends, self.state.probe_timeouts, settings.ps_interval), "fleet-ps-polls"
            )
        self._spawn(self.resolver.run(), "fleet-resolver")
        if settings.reload_interval > 0:
            self._spawn(self.watcher.run(), "fleet-map-watcher")
        self._spawn(self.state.scaler.run(), "fleet-scale-to-zero")

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(work, name=name))

    async def aclose(self) -> None:
        """Cancel every task and wait until each has ended."""
        tasks, self.tasks = self.tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.state.scaler.aclose()
