"""Retry and fallback before the first byte: try backends and their replicas until one answers usefully.

The plan (backends, and each backend's replicas, in order) comes from the placement policy
(:mod:`router.balancing.placement`), over the backends :func:`router.balancing.selection.rank` keeps; admission
(:mod:`router.balancing.admission`) gives
the request a slot on the first one with room (waiting in its queue if all are full). Attempts then go
through that backend's eligible replicas, then the other ranked backends (each only if it has a free
slot), until one gives an answer worth relaying. Before the first response byte a failure is not the
client's problem yet, and the body is in memory, so the request moves on after:

- no connection, a broken response head, or the idle timeout while reading an error body;
- an answer of 502, 503 or 504 (read whole: such answers are small);
- a 404 whose body is Ollama's "model not found", for a model the map routes to that backend (the map
  and the backend disagree: logged, counted, and the next backend asked).

It does not move on after a first-byte timeout (the backend may be busy loading the model; asking
another would double the wait and the work), nor after ``FLEET_RETRY_DEADLINE`` seconds since the
first attempt. When every attempt failed, the client gets the last backend answer read (so a 503 stays
Ollama's 503), else a 502 or 504 naming the backend. Nothing here runs once a byte has been relayed.

Each attempt at a replica is booked in its residency (:class:`router.balancing.residency.Visit`): a warm
hit or a cold start (``fleet_warm_hits_total``, ``fleet_cold_starts_total``), the model resident once
answered, the load or service time it showed.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from router.balancing.admission import QueueLimits, admit
from router.balancing.backends import Backend
from router.balancing.placement import Plan, Planner, Policy, running_model
from router.balancing.replicas import Replica
from router.balancing.residency import Visit
from router.balancing.selection import Choice
from router.telemetry.metrics import Metrics, Reason
from router.upstream import FirstByteTimeout, Timeouts, UpstreamConnectError, UpstreamError, UpstreamResponse, exchange
from router.upstream.outgoing import Outgoing

logger = logging.getLogger("router.proxy")

RETRY_STATUSES = frozenset({502, 503, 504})
"""Backend answers that send the request on to the next candidate (when there is one)."""

BUFFER_LIMIT = 64 * 1024
"""Largest error answer read into memory to decide whether to try elsewhere."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A response head to relay; the backend's slot and the replica's in-flight count are held."""

    upstream: UpstreamResponse
    backend: Backend
    replica: Replica
    visit: Visit | None = None

    def finish(self) -> None:
        """The relay is over: drop the connection unless it was returned, free the replica and the slot."""
        completed = 200 <= self.upstream.status < 300
        self.upstream.abort()
        self.replica.in_flight -= 1
        if self.visit is not None:
            self.visit.end(time.monotonic(), completed=completed)
        self.backend.release()


@dataclass(frozen=True, slots=True)
class Buffered:
    """A complete small answer read into memory; ``retry`` when another backend may do better."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    backend: Backend
    retry: bool


@dataclass(frozen=True, slots=True)
class Failure:
    """No answer from a backend; ``retry`` unless it was a first-byte timeout."""

    error: UpstreamError
    backend: Backend
    retry: bool = True


Outcome = Answer | Buffered | Failure


def model_missing(body: bytes) -> bool:
    """Whether an error body is Ollama's "model not found" (native or OpenAI shape)."""
    try:
        document = json.loads(body)
    except ValueError:
        return False
    error = document.get("error") if isinstance(document, dict) else None
    if isinstance(error, dict):
        error = error.get("message")
    return isinstance(error, str) and "model" in error and "not found" in error


def _prefer(kept: Outcome | None, new: Outcome) -> Outcome:
    """The outcome to answer with if nothing better comes: a backend's own answer beats a failure."""
    if kept is None or isinstance(new, Buffered) or isinstance(kept, Failure):
        return new
    return kept


class Balancer:
    """Finds the first answer worth relaying among ranked backends and their replicas."""

    def __init__(
        self,
        limits: QueueLimits,
        timeouts: Timeouts,
        metrics: Metrics,
        retry_deadline: float,
        planner: Planner | None = None,
    ) -> None:
        self.planner = planner or Planner(Policy.WARM_FIRST)
        self.limits = limits
        self.timeouts = timeouts
        self.metrics = metrics
        self.retry_deadline = retry_deadline

    async def first_answer(self, outgoing: Outgoing, options: Sequence[Choice]) -> Outcome:
        """The first answer worth relaying, or the best refusal; raises Unavailable (open circuits, full queues)."""
        plan = self.planner.plan(options, running_model(outgoing.target, outgoing.model), time.monotonic())
        ranked = plan.backends
        first = await admit(ranked, self.limits)
        deadline = time.monotonic() + self.retry_deadline
        order = [first, *(backend for backend in ranked if backend is not first)]
        kept: Outcome | None = None
        for position, backend in enumerate(order):
            if position:
                if time.monotonic() >= deadline:
                    break
                if not backend.try_occupy():
                    continue
            more_after = position + 1 < len(order)
            try:
                outcome = await self._on_backend(outgoing, plan, backend, more_after=more_after, deadline=deadline)
            except BaseException:
                backend.release()
                raise
            if isinstance(outcome, Answer):
                return outcome
            backend.release()
            kept = _prefer(kept, outcome)
            if not outcome.retry:
                break
        assert kept is not None, "the first ranked backend is always tried"
        return kept

    async def _on_backend(
        self, outgoing: Outgoing, plan: Plan, backend: Backend, *, more_after: bool, deadline: float
    ) -> Outcome:
        """Try ``backend``'s eligible replicas in the planned order (its slot is held by the caller)."""
        replicas = plan.replicas_of(backend, time.monotonic())
        if not replicas:
            return Failure(UpstreamConnectError(f"no replica of backend {backend.name} takes requests now"), backend)
        kept: Outcome | None = None
        for index, replica in enumerate(replicas):
            if index:
                now = time.monotonic()
                if now >= deadline:
                    break
                if not replica.allows(now):
                    continue
            more = more_after or index + 1 < len(replicas)
            outcome = await self._attempt(outgoing, backend, replica, more=more)
            if isinstance(outcome, Answer) or not outcome.retry:
                return outcome
            kept = _prefer(kept, outcome)
        assert kept is not None, "the first eligible replica is always tried"
        return kept

    async def _attempt(self, outgoing: Outgoing, backend: Backend, replica: Replica, *, more: bool) -> Outcome:
        """Send the request to one replica; with ``more``, a retryable answer is read whole, not relayed."""
        message = outgoing.message(backend.host_header, backend.authorization)
        trial = replica.circuit.on_dispatch()
        replica.in_flight += 1
        visit = self._visit(outgoing, backend, replica)
        started = time.perf_counter()
        try:
            upstream = await exchange(replica.pool, message, self.timeouts, head_only=outgoing.head_only)
        except UpstreamError as error:
            replica.in_flight -= 1
            _ended(visit, completed=False)
            replica.record_failure(str(error))
            failure = Failure(error, backend, retry=not isinstance(error, FirstByteTimeout))
            return self._moved_on(outgoing, replica, failure, more)
        except BaseException:
            replica.in_flight -= 1
            _ended(visit, completed=False)
            if trial:
                replica.circuit.on_abandon()
            raise
        self.metrics.first_byte(backend.name, time.perf_counter() - started)
        status = upstream.status
        if visit is not None:
            visit.answered(status, time.monotonic())
        if status >= 500:
            replica.record_failure(f"answered {status}")
        else:
            replica.record_success()
        if not more or not (status in RETRY_STATUSES or (status == 404 and outgoing.model_fallback)):
            return Answer(upstream, backend, replica, visit)
        _ended(visit, completed=False)
        return self._moved_on(outgoing, replica, await _buffer(upstream, backend, replica), more)

    def _visit(self, outgoing: Outgoing, backend: Backend, replica: Replica) -> Visit | None:
        """Book the attempt in the replica's residency and count it as a warm hit or a cold start."""
        model = running_model(outgoing.target, outgoing.model)
        if model is None:
            return None
        parallel = backend.num_parallel or 1
        visit = Visit.begin(model, replica.residency, backend.timings, parallel, time.monotonic())
        self.metrics.placement(outgoing.model, backend.name, visit.start)
        return visit

    def _moved_on(self, outgoing: Outgoing, replica: Replica, outcome: Outcome, more: bool) -> Outcome:
        """Count and log an outcome that sends the request to the next candidate."""
        if isinstance(outcome, Answer) or not outcome.retry or not more:
            return outcome
        if isinstance(outcome, Failure):
            reason: str = Reason(outcome.error.reason)
            detail = str(outcome.error)
        else:
            reason = Reason.MODEL_NOT_FOUND if outcome.status == 404 else f"status_{outcome.status}"
            detail = f"answered {outcome.status}"
        self.metrics.retry(replica.backend, reason)
        if reason == Reason.MODEL_NOT_FOUND:
            detail = f"the map routes {outgoing.model} to {replica.backend}, which does not have it"
        extra = {"backend": replica.backend, "replica": replica.address, "reason": reason, "detail": detail}
        logger.warning("trying the next backend", extra=extra)
        return outcome


def _ended(visit: Visit | None, *, completed: bool) -> None:
    if visit is not None:
        visit.end(time.monotonic(), completed=completed)


async def _buffer(upstream: UpstreamResponse, backend: Backend, replica: Replica) -> Outcome:
    """Read a small error answer whole, so the connection is free and the answer can be sent later."""
    try:
        body = await upstream.body(BUFFER_LIMIT)
    except UpstreamError as error:
        replica.record_failure(str(error))
        return Failure(error, backend)
    finally:
        upstream.close()
        replica.in_flight -= 1
    status = upstream.status
    retry = status in RETRY_STATUSES or (status == 404 and model_missing(body))
    return Buffered(status, upstream.headers, body, backend, retry)
