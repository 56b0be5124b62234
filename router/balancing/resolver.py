"""Replicas of ``resolve: true`` backends: every address their host resolves to, looked up again and again.

A headless Kubernetes Service has one DNS record per ready pod. Connecting to its name would let the
resolver pick one pod per *connection*, and kept-alive connections would pin the load; resolving the
name here and treating each address as a replica (:mod:`router.balancing.replicas`) lets the router pick a pod
per *request*, by least in-flight requests. The addresses are looked up with ``loop.getaddrinfo`` at
start-up, whenever the model map adds such a backend, and every ``FLEET_RESOLVE_INTERVAL`` seconds:
new addresses become replicas, vanished ones are retired (answers still streaming from them finish).
A failed or empty look-up keeps the previous addresses (the circuit breakers deal with dead ones) and is
logged once per change of outcome. The resolver is injectable, so tests can map a name to addresses.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable

from router.balancing.backends import Backend, BackendRegistry

logger = logging.getLogger("router.resolver")

Resolve = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port) -> addresses``: how a backend's host name becomes replica addresses."""


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (the system resolver, via ``loop.getaddrinfo``), in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class ReplicaResolver:
    """Keeps the replicas of the live map's ``resolve: true`` backends in step with DNS."""

    def __init__(
        self, backends: BackendRegistry, timeout: float, interval: float, resolve: Resolve | None = None
    ) -> None:
        self.backends = backends
        self.timeout = timeout
        self.interval = interval
        self.resolve = resolve or system_resolve
        self._failing: set[str] = set()

    async def refresh(self, backends: Iterable[Backend]) -> None:
        """Look up every ``resolve: true`` backend among ``backends`` now (at once)."""
        await asyncio.gather(*(self._refresh_one(backend) for backend in backends if backend.resolve))

    async def _refresh_one(self, backend: Backend) -> None:
        timeout = self.timeout
        try:
            async with asyncio.timeout(timeout):
                addresses = await self.resolve(backend.hostname, backend.port)
            if not addresses:
                raise OSError("no addresses")
        except (OSError, TimeoutError) as error:
            if backend.name not in self._failing:
                self._failing.add(backend.name)
                detail = str(error) or f"no answer within {timeout:g} s"
                logger.warning(
                    "cannot resolve a backend; keeping its addresses",
                    extra={"backend": backend.name, "host": backend.hostname, "reason": detail},
                )
            return
        self._failing.discard(backend.name)
        before = [replica.address for replica in backend.replicas]
        removed = backend.set_addresses(sorted(addresses))
        after = [replica.address for replica in backend.replicas]
        if after != before:
            self.backends.retire(removed)
            logger.info("backend replicas changed", extra={"backend": backend.name, "replicas": after})

    async def run(self) -> None:
        """Look-ups every ``FLEET_RESOLVE_INTERVAL`` seconds until cancelled (a lifespan-owned task)."""
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.refresh(list(self.backends.by_name.values()))
            except Exception:
                logger.exception("resolving backends failed")
