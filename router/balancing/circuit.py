"""The circuit breaker that keeps requests away from a replica that keeps failing.

After :attr:`CircuitPolicy.failures` consecutive failures (no connection, a timeout, a broken response,
a 5xx answer, a failed health probe) the circuit opens: no request is sent for
:attr:`CircuitPolicy.open_seconds`. Then it is half-open and lets exactly one trial request through;
that request's outcome closes the circuit or opens it again. A successful active health probe closes it
at once (the backend answered ``/api/version``, so it is back), which is how an idle backend recovers
without a client's request being spent on the trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class CircuitPolicy:
    """How many consecutive failures open a circuit, and how long it stays open before a trial."""

    failures: int = 3
    open_seconds: float = 10.0


class CircuitState(StrEnum):
    """Whether requests may go to a replica."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


class CircuitBreaker:
    """Consecutive-failure circuit breaker with a single trial request when half-open."""

    def __init__(self, policy: CircuitPolicy | None = None) -> None:
        self.policy = policy or CircuitPolicy()
        self.state = CircuitState.CLOSED
        self.failures = 0
        self._opened_at = 0.0
        self._trial_out = False

    def allows(self, now: float) -> bool:
        """Whether a request may be sent now (moves an expired open circuit to half-open)."""
        if self.state is CircuitState.OPEN and now - self._opened_at >= self.policy.open_seconds:
            self.state = CircuitState.HALF_OPEN
            self._trial_out = False
        if self.state is CircuitState.HALF_OPEN:
            return not self._trial_out
        return self.state is CircuitState.CLOSED

    def retry_in(self, now: float) -> float:
        """Seconds until a request may be sent (0 when one may be sent now)."""
        if self.allows(now):
            return 0.0
        if self.state is CircuitState.OPEN:
            return max(0.0, self._opened_at + self.policy.open_seconds - now)
        return self.policy.open_seconds

    def on_dispatch(self) -> bool:
        """A request is being sent; returns whether it is the half-open trial."""
        if self.state is CircuitState.HALF_OPEN:
            self._trial_out = True
            return True
        return False

    def on_abandon(self) -> None:
        """The trial ended without an outcome (its client left): the next request may be the trial."""
        if self.state is CircuitState.HALF_OPEN:
            self._trial_out = False

    def on_success(self) -> bool:
        """The replica answered: close the circuit; returns whether it was not closed before."""
        reopened = self.state is not CircuitState.CLOSED
        self.state = CircuitState.CLOSED
        self.failures = 0
        self._trial_out = False
        return reopened

    def on_failure(self, now: float) -> bool:
        """Count a failure; returns whether this one opened the circuit (threshold, or a failed trial).

        A failure while open (a probe, or a request sent before it opened) restarts the open period.
        """
        self.failures += 1
        if self.state is CircuitState.OPEN:
            self._opened_at = now
            return False
        if self.state is CircuitState.HALF_OPEN or self.failures >= self.policy.failures:
            self.state = CircuitState.OPEN
            self._opened_at = now
            self._trial_out = False
            return True
        return False
