"""One pool that scales to zero, as this router sees it: awake, asleep or waking, and when it was last used.

Sleeping: the pool goes to 0 replicas only when its activity Lease (shared by every router replica) has not
been renewed for ``idle_after_s``, this router has nothing in flight there and has not used it for that
long either, and no wake is under way. Each router renews the Lease when it uses the pool: at once after a
quiet spell, then at most every :func:`renew_interval` while requests keep coming or stay in flight.
A Lease never renewed gets its first ``renewTime`` (the clock starts) rather than a sleep.

Waking: one task per pool, shared by every request that needs it. It renews the Lease (so no router puts
the pool back to sleep meanwhile), scales the StatefulSet to its replicas unless some router already did,
then polls the StatefulSet until a pod is ready and the backend answers ``/api/version``. Requests wait
on it up to ``wake_timeout_s``; a request that gives up (or whose client leaves) does not stop it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from config.scaling import BackendScale, activity_lease
from router.balancing.backends import Backend
from router.balancing.kube_facts import Activity, KubeApiError, Observation
from router.balancing.selection import Unavailable
from router.telemetry.metrics import Reason
from router.telemetry.scale_metrics import Held, ScaleMetrics

if TYPE_CHECKING:
    from router.balancing.kube_api import KubeApi

logger = logging.getLogger("router.scaling")

ReadyCheck = Callable[[Backend], Awaitable[bool]]
RETRY_AFTER_S = 30
"""What a client that timed out waiting for a wake is told to wait before asking again."""


class Phase(StrEnum):
    """The pool as this router last saw it."""

    UNKNOWN = "unknown"
    AWAKE = "awake"
    ASLEEP = "asleep"
    WAKING = "waking"


def renew_interval(idle_after_s: float) -> float:
    """Seconds between two renewals of the Lease while the pool is used: 30, or a third of idle_after."""
    return min(30.0, idle_after_s / 3)


def poll_interval(idle_after_s: float) -> float:
    """Seconds between two reads of the StatefulSet: 5, or less when idle_after is very short."""
    return min(5.0, max(0.05, idle_after_s / 6))


def _utc(epoch: float | None) -> str | None:
    return None if epoch is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class ScalePool:
    """Sleep and wake state of one backend with ``scale``."""

    def __init__(self, backend: Backend, api: KubeApi, metrics: ScaleMetrics, ready: ReadyCheck) -> None:
        assert backend.scale is not None, "only backends with scale sleep"
        self.backend = backend
        self.spec: BackendScale = backend.scale
        self.name = backend.name
        self.lease = activity_lease(backend.name)
        self.api, self.metrics, self._ready = api, metrics, ready
        self.phase = Phase.UNKNOWN
        self.observed: Observation | None = None
        self.activity: Activity | None = None
        self.waking_since: float | None = None
        self.last_error: str | None = None
        self.held = 0
        """Requests waiting for this pool's wake right now."""
        self._wake: asyncio.Task[None] | None = None
        self._taken_seen = backend.taken
        self._used_at = -math.inf
        self._renewed_at = -math.inf
        self._next_poll = 0.0

    @property
    def routable(self) -> bool:
        """Whether requests may go to it now (awake; or unknown to the API but answering its probes)."""
        return self.phase is Phase.AWAKE or (self.phase is Phase.UNKNOWN and self.backend.health == "up")

    @property
    def waking(self) -> bool:
        """Whether this router's wake task is running."""
        return self._wake is not None and not self._wake.done()

    # -- waking ----------------------------------------------------------------------------------

    def wake(self) -> asyncio.Task[None]:
        """The pool's wake task: the running one, or a new one."""
        if self._wake is None or self._wake.done():
            self._wake = asyncio.get_running_loop().create_task(self._waking(), name=f"wake-{self.name}")
            self._wake.add_done_callback(self._woken)
        return self._wake

    async def _waking(self) -> None:
        started = time.monotonic()
        self.phase, self.waking_since = Phase.WAKING, time.time()
        self.metrics.wakes[self.name] += 1
        self._used_at = started
        await self._renew(started)
        try:
            self.observed = await self.api.observe(self.spec)
            if self.observed.wanted == 0:
                await self.api.scale(self.spec, self.spec.replicas)
                self.observed = Observation(self.spec.replicas, 0, 0)
        except KubeApiError:
            asleep = self.observed is not None and self.observed.wanted == 0
            self.phase, self.waking_since = Phase.ASLEEP if asleep else Phase.UNKNOWN, None
            raise
        pause = min(1.0, poll_interval(self.spec.idle_after_s))
        while not await self._answers():
            await asyncio.sleep(pause)
        self.phase, self.waking_since = Phase.AWAKE, None
        self.metrics.woke(self.name, time.monotonic() - started)
        logger.info("pool awake", extra={"backend": self.name, "seconds": round(time.monotonic() - started, 3)})

    async def _answers(self) -> bool:
        try:
            self.observed = await self.api.observe(self.spec)
        except KubeApiError as error:
            self.last_error = str(error)
            return False
        return self.observed.ready >= 1 and await self._ready(self.backend)

    def _woken(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (error := task.exception()) is not None:
            self.last_error = str(error)
            logger.warning("wake failed", extra={"backend": self.name, "detail": str(error)})

    async def wait(self) -> None:
        """Hold the caller until the shared wake is done; :class:`Unavailable` past ``wake_timeout_s``."""
        task, started = self.wake(), time.monotonic()
        self.held += 1
        try:
            await asyncio.wait_for(asyncio.shield(task), self.spec.wake_timeout_s)
        except TimeoutError:
            self.metrics.held[(self.name, Held.TIMED_OUT)] += 1
            waited = time.monotonic() - started
            raise Unavailable(self.waiting_message(waited), RETRY_AFTER_S, Reason.WAKING) from None
        except KubeApiError as error:
            self.metrics.held[(self.name, Held.FAILED)] += 1
            message = f"pool {self.name} is asleep and could not be woken: {error}"
            raise Unavailable(message, RETRY_AFTER_S, Reason.SCALE_API) from None
        except asyncio.CancelledError:
            self.metrics.held[(self.name, Held.LEFT)] += 1
            raise
        finally:
            self.held -= 1
        self.metrics.held[(self.name, Held.SERVED)] += 1

    def waiting_message(self, waited: float) -> str:
        """Why the pool is not answering yet, as far as the StatefulSet's status tells."""
        seen = self.observed
        if seen is None or seen.wanted == 0:
            what = "the Kubernetes API to accept the scale-up"
        elif seen.created == 0:
            what = f"StatefulSet {self.spec.statefulset} to create its pod"
        elif seen.ready == 0:
            what = "its pod to become ready (a GPU node, its NVIDIA driver and Ollama starting)"
        else:
            what = "Ollama to answer (its pod is ready; Ollama is starting or loading)"
        return f"pool {self.name} is waking up ({waited:.0f} s so far) and waiting for {what}; retry later"

    # -- activity and sleep ----------------------------------------------------------------------

    async def tick(self) -> None:
        """Note local use, renew the Lease when due, read the StatefulSet when due, and sleep it when idle."""
        now = time.monotonic()
        if self.backend.taken != self._taken_seen or self.backend.in_flight:
            self._taken_seen, self._used_at = self.backend.taken, now
        if self._used_at > self._renewed_at and now - self._renewed_at >= renew_interval(self.spec.idle_after_s):
            await self._renew(now)
        if self.waking or now < self._next_poll:
            return
        self._next_poll = now + poll_interval(self.spec.idle_after_s)
        try:
            self.observed = await self.api.observe(self.spec)
        except KubeApiError as error:
            self.last_error = str(error)
            return
        self._phase_from(self.observed)
        if self.phase is Phase.AWAKE:
            await self._maybe_sleep(now)

    def _phase_from(self, seen: Observation) -> None:
        if seen.wanted == 0:
            self.phase, self.waking_since = Phase.ASLEEP, None
        elif seen.ready >= 1:
            self.phase, self.waking_since = Phase.AWAKE, None
        else:
            self.phase, self.waking_since = Phase.WAKING, self.waking_since or time.time()

    async def _renew(self, now: float) -> None:
        try:
            self.activity = await self.api.renew(self.spec.namespace, self.lease, time.time(), self._lease_s())
            self._renewed_at = now
        except KubeApiError as error:
            self.last_error = str(error)

    def _lease_s(self) -> int:
        return max(1, math.ceil(self.spec.idle_after_s))

    async def _maybe_sleep(self, now: float) -> None:
        idle = self.spec.idle_after_s
        if self.backend.in_flight or now - self._used_at < idle:
            return
        try:
            self.activity = await self.api.activity(self.spec.namespace, self.lease)
            if self.activity.renewed_at is None:
                await self._renew(now)
                return
            if time.time() - self.activity.renewed_at < idle or self.backend.taken != self._taken_seen:
                return
            await self.api.scale(self.spec, 0)
        except KubeApiError as error:
            self.last_error = str(error)
            return
        self.phase, self.observed = Phase.ASLEEP, Observation(0, 0, 0)
        self.metrics.sleeps[self.name] += 1
        logger.info(
            "pool asleep", extra={"backend": self.name, "idle_s": round(time.time() - self.activity.renewed_at)}
        )

    async def aclose(self) -> None:
        """Stop a wake in progress (the router is shutting down)."""
        task, self._wake = self._wake, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def status(self) -> dict[str, object]:
        """The pool as ``/fleet/status`` shows it."""
        seen, activity = self.observed, self.activity
        return {
            "backend": self.name,
            "statefulset": f"{self.spec.namespace}/{self.spec.statefulset}",
            "state": self.phase.value,
            "waking_since": _utc(self.waking_since),
            "last_activity": _utc(activity.renewed_at if activity else None),
            "last_activity_by": activity.holder if activity else None,
            "replicas": seen.wanted if seen else None,
            "ready_replicas": seen.ready if seen else None,
            "waiting_requests": self.held,
            "wakes_to": self.spec.replicas,
            "idle_after_s": self.spec.idle_after_s,
            "wake_timeout_s": self.spec.wake_timeout_s,
            "last_error": self.last_error,
        }
